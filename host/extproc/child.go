package extproc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"bohost/host/worker"
)

// child is one run of the evaluator command.
type child struct {
	cmd   *exec.Cmd
	pid   int
	stdin *os.File

	lines      chan lineItem // from its stdout, in order; closed after the last
	exited     chan struct{} // closed when it was reaped
	stderrDone chan struct{}
	state      *os.ProcessState // set before exited is closed
	tail       *lineTail
	killed     atomic.Bool // killed by the bridge (a protocol failure, Close)
	tree       []int       // its process tree (resetPeaks)
	treeAt     time.Time   // when tree was listed
}

// lineItem is one line of the child's stdout, or how its stdout ended
// (err: io.EOF, io.ErrUnexpectedEOF with the partial line, *errTooLong).
type lineItem struct {
	line []byte
	err  error
}

// spawner starts children from one OS thread that stays locked for the
// bridge's life, so Pdeathsig fires only when the worker process ends (it
// is sent when the thread that started the child exits).
type spawner struct {
	reqs chan spawnReq
	stop chan struct{}
	once sync.Once
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), stop: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		for {
			select {
			case r := <-s.reqs:
				r.done <- startUnlimited(r.cmd)
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

func (s *spawner) start(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	select {
	case s.reqs <- spawnReq{cmd, done}:
		return <-done
	case <-s.stop:
		return errors.New("the bridge is closed")
	}
}

func (s *spawner) close() { s.once.Do(func() { close(s.stop) }) }

// startUnlimited starts cmd with this process's soft RLIMIT_DATA raised to
// its hard limit for the child to inherit: the worker's own limit
// (host/worker's kernel backstop, set from its Go data size) means nothing
// for the evaluator, whose memory the pool caps over the process tree.
func startUnlimited(cmd *exec.Cmd) error {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_DATA, &rl) != nil || rl.Cur == rl.Max {
		return cmd.Start()
	}
	syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: rl.Max, Max: rl.Max})
	err := cmd.Start()
	syscall.Setrlimit(syscall.RLIMIT_DATA, &rl)
	return err
}

// startChild starts the command with its pipes and the readers of its
// stdout and stderr.
func (b *Bridge) startChild() (*child, error) {
	o := b.o
	cmd := exec.Command(o.Command[0], o.Command[1:]...)
	cmd.Env, cmd.Dir = o.Env, o.Dir
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	// Same process group as the worker (the pool's kill of the group takes
	// the child); SIGKILL when the worker dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = b.spawn.start(cmd)
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("starting %s: %v", quoteArgv(o.Command), err)
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, stdin: inW, lines: make(chan lineItem, 64),
		exited: make(chan struct{}), stderrDone: make(chan struct{}), tail: &lineTail{max: 40}}
	b.logf("evaluator started: pid %d, %s%s", c.pid, quoteArgv(o.Command), b.gpuNote())
	go func() {
		cmd.Wait()
		c.state = cmd.ProcessState
		close(c.exited)
	}()
	go c.readStdout(outR, o.MaxLine)
	go b.copyStderr(c, errR)
	return c, nil
}

func (c *child) readStdout(r *os.File, max int) {
	defer close(c.lines)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br, max)
		if err != nil {
			c.lines <- lineItem{line: line, err: err}
			return
		}
		c.lines <- lineItem{line: line}
	}
}

// copyStderr appends the child's stderr to the worker's log file and to
// the worker's stderr (so a death certificate holds its last lines), and
// keeps its last lines for error messages.
func (b *Bridge) copyStderr(c *child, r *os.File) {
	defer close(c.stderrDone)
	defer r.Close()
	br := bufio.NewReaderSize(r, 16<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			c.tail.add(line)
			b.out.write(line, err != nil && !errors.Is(err, bufio.ErrBufferFull))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// kill SIGKILLs the child and its descendants (they share the worker's
// process group, which must live on).
func (c *child) kill() {
	c.killed.Store(true)
	pids := worker.TreePIDs(c.pid)
	for i := len(pids) - 1; i >= 0; i-- {
		syscall.Kill(pids[i], syscall.SIGKILL)
	}
}

// waitExit waits up to d for the child to be reaped.
func (c *child) waitExit(d time.Duration) bool {
	select {
	case <-c.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// how describes the child's end: "was killed by SIGSEGV", "exited with
// status 3"; the signal (0: none) and the exit status.
func (c *child) how() (string, syscall.Signal, int) {
	if c.state == nil {
		return "ended", 0, -1
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "was killed by " + worker.SignalName(ws.Signal()), ws.Signal(), -1
	}
	return fmt.Sprintf("exited with status %d", c.state.ExitCode()), 0, c.state.ExitCode()
}

// resetPeaks resets the VmHWM of the child and its descendants; false when
// it could not (the peak then covers their lives). The descendants are
// listed at most once a second (walking /proc costs more than the protocol's
// round trip), and peak measures the same processes: one started during an
// evaluation is measured by the pool's RSS poll, which walks the tree anew.
func (c *child) resetPeaks() bool {
	if c.tree == nil || time.Since(c.treeAt) > time.Second {
		c.tree, c.treeAt = worker.TreePIDs(c.pid), time.Now()
	}
	ok := true
	for _, pid := range c.tree {
		if procWrite("/proc/"+strconv.Itoa(pid)+"/clear_refs", "5") != nil {
			ok = false
		}
	}
	return ok
}

// peak is the summed VmHWM of the processes resetPeaks listed.
func (c *child) peak() int64 {
	var n int64
	var buf [4096]byte
	for _, pid := range c.tree {
		b, err := worker.ReadProc("/proc/"+strconv.Itoa(pid)+"/status", buf[:])
		if err != nil {
			continue
		}
		n += max(statusKB(b, "VmHWM:"), statusKB(b, "VmRSS:")) << 10
	}
	return n
}

// statusKB reads a "Key:   123 kB" line of /proc/PID/status.
func statusKB(b []byte, key string) int64 {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0
	}
	line := b[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseInt(f[0], 10, 64)
	return v
}

// procWrite uses plain system calls (as worker.ReadProc): it runs at every
// evaluation, where os.WriteFile's poller registration would cost more than
// the protocol's round trip.

func procWrite(path, s string) error {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	_, err = syscall.Write(fd, []byte(s))
	return err
}

// lineTail keeps the last lines written to it.
type lineTail struct {
	mu    sync.Mutex
	lines []string
	max   int
}

func (t *lineTail) add(b []byte) {
	s := strings.TrimRight(string(b), "\r\n")
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// last returns the last n lines, joined.
func (t *lineTail) last(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.lines
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// output is where the bridge writes: the child's stderr and the bridge's
// own notes go to the log file and the worker's stderr.
type output struct {
	mu     sync.Mutex
	log    io.Writer // nil: none
	stderr io.Writer
	midway bool // the last write ended without a newline
}

func (o *output) write(b []byte, last bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil {
		o.log.Write(b)
	}
	if o.stderr != nil {
		o.stderr.Write(b)
	}
	o.midway = len(b) > 0 && b[len(b)-1] != '\n'
	if last && o.midway {
		o.writeLocked([]byte("\n"))
	}
}

func (o *output) writeLocked(b []byte) {
	if o.log != nil {
		o.log.Write(b)
	}
	if o.stderr != nil {
		o.stderr.Write(b)
	}
	o.midway = false
}

// note writes one line of the bridge's own.
func (o *output) note(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b bytes.Buffer
	if o.midway {
		b.WriteByte('\n')
	}
	b.WriteString(line)
	b.WriteByte('\n')
	o.writeLocked(b.Bytes())
}

func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

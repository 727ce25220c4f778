package lua

import (
	"fmt"
	"sort"
	"sync"
)

// Handles is the registry of native resources visible to Lua (evaluators,
// GPU buffers, models holding OpenCV memory). gopher-lua never runs __gc, so
// every handle is freed explicitly (:free()), by mem.scope when its scope
// ends, or at Close, which reports it as a leak.
type Handles struct {
	mu     sync.Mutex
	next   uint64
	live   map[uint64]*Handle
	scopes [][]uint64
}

// Handle is one registered native resource.
type Handle struct {
	id    uint64
	Kind  string
	free  func()
	owner *Handles
	freed bool
}

// NewHandles returns an empty registry.
func NewHandles() *Handles { return &Handles{live: map[uint64]*Handle{}} }

// Register records a resource of the given kind; free releases it and is
// called at most once.
func (h *Handles) Register(kind string, free func()) *Handle {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	hd := &Handle{id: h.next, Kind: kind, free: free, owner: h}
	h.live[hd.id] = hd
	if n := len(h.scopes); n > 0 {
		h.scopes[n-1] = append(h.scopes[n-1], hd.id)
	}
	return hd
}

// Free releases the handle; freeing twice is a no-op.
func (hd *Handle) Free() {
	if hd == nil {
		return
	}
	h := hd.owner
	h.mu.Lock()
	if hd.freed {
		h.mu.Unlock()
		return
	}
	hd.freed = true
	delete(h.live, hd.id)
	h.mu.Unlock()
	if hd.free != nil {
		hd.free()
	}
}

// Freed reports whether the handle was released.
func (hd *Handle) Freed() bool {
	hd.owner.mu.Lock()
	defer hd.owner.mu.Unlock()
	return hd.freed
}

// Live returns the number of live handles per kind.
func (h *Handles) Live() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, hd := range h.live {
		out[hd.Kind]++
	}
	return out
}

// Count returns the number of live handles.
func (h *Handles) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.live)
}

// PushScope opens a scope: handles registered until the matching PopScope
// are freed by it.
func (h *Handles) PushScope() {
	h.mu.Lock()
	h.scopes = append(h.scopes, nil)
	h.mu.Unlock()
}

// PopScope closes the innermost scope and frees the handles created inside
// it (newest first) that are still live. It returns how many it freed.
func (h *Handles) PopScope() int {
	h.mu.Lock()
	n := len(h.scopes)
	if n == 0 {
		h.mu.Unlock()
		return 0
	}
	ids := h.scopes[n-1]
	h.scopes = h.scopes[:n-1]
	var todo []*Handle
	for i := len(ids) - 1; i >= 0; i-- {
		if hd, ok := h.live[ids[i]]; ok {
			todo = append(todo, hd)
		}
	}
	h.mu.Unlock()
	for _, hd := range todo {
		hd.Free()
	}
	return len(todo)
}

// FreeAll frees every live handle and returns a description of what was
// still live ("2 x airline.Evaluator"), for leak reports.
func (h *Handles) FreeAll() []string {
	live := h.Live()
	h.mu.Lock()
	var todo []*Handle
	for _, hd := range h.live {
		todo = append(todo, hd)
	}
	h.mu.Unlock()
	sort.Slice(todo, func(i, j int) bool { return todo[i].id > todo[j].id })
	for _, hd := range todo {
		hd.Free()
	}
	var out []string
	for k, n := range live {
		out = append(out, fmt.Sprintf("%d x %s", n, k))
	}
	sort.Strings(out)
	return out
}

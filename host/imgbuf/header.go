package imgbuf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strconv"
	"strings"

	"bohost/host/errs"
)

// DefaultMaxPixels is the pixel limit when neither an option nor
// BOHOST_MAX_PIXELS sets one: 2^26 = 67,108,864 pixels, a square of
// 8192 × 8192. It is 8 times the 8-megapixel photographs bohost is used on
// (3264 × 2448) and 5.6 times the 4000 × 3000 images of the long tests, and
// it keeps one image at the limit near 1 GiB: a 16-bit RGBA PNG decodes to
// 8 bytes a pixel (512 MiB) before it becomes 1 byte of grey, and the
// environment features (host/envfeat) need about 12 bytes a pixel.
const DefaultMaxPixels int64 = 1 << 26

// MaxPixelsEnv names the environment variable that sets the pixel limit for
// the whole process (and its workers, which inherit it) where no option sets
// one.
const MaxPixelsEnv = "BOHOST_MAX_PIXELS"

// RaiseHint says how to raise the pixel limit.
const RaiseHint = "raise it with max_pixels = N on the data set (airline.dataset{...}, or the objective's " +
	"{airline = {...}}) or with the environment variable " + MaxPixelsEnv + "=N (the whole process and its workers)"

// Limit is a resolved pixel limit and where it came from.
type Limit struct {
	Pixels int64  // the most pixels (width × height) an image may have
	Source string // "max_pixels", MaxPixelsEnv or "default"
}

// ResolveLimit returns the pixel limit: opt when it is > 0 (a data set's
// max_pixels option), else BOHOST_MAX_PIXELS when it is set, else
// DefaultMaxPixels. A negative opt, or a BOHOST_MAX_PIXELS that is not a
// positive whole number, is a bad_arg error naming it.
func ResolveLimit(opt int64) (Limit, error) {
	switch {
	case opt > 0:
		return Limit{opt, "max_pixels"}, nil
	case opt < 0:
		return Limit{}, errs.New(errs.BadArg, "", "max_pixels must be a positive number of pixels (0: the default), got %d", opt)
	}
	if v, ok := os.LookupEnv(MaxPixelsEnv); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 {
			return Limit{}, errs.New(errs.BadArg, "", "%s must be a positive whole number of pixels, got %q", MaxPixelsEnv, v)
		}
		return Limit{n, MaxPixelsEnv}, nil
	}
	return Limit{DefaultMaxPixels, "default"}, nil
}

// Check returns nil when a w × h image is within the limit, else an io
// error naming the image (name), its size and the limit. It never
// overflows: each side is checked before the product.
func (l Limit) Check(name string, w, h int) error {
	if w <= 0 || h <= 0 {
		return errs.New(errs.IO, "", "%s: the image header says %d x %d pixels", name, w, h)
	}
	if int64(w) > l.Pixels || int64(h) > l.Pixels || int64(w) > l.Pixels/int64(h) {
		src := "the default"
		switch l.Source {
		case "max_pixels":
			src = "max_pixels"
		case MaxPixelsEnv:
			src = "from " + MaxPixelsEnv
		}
		n := fmt.Sprintf("%.4g", float64(w)*float64(h))
		if w <= 1<<31 && h <= 1<<31 { // the product fits in an int64
			n = strconv.FormatInt(int64(w)*int64(h), 10)
		}
		return errs.New(errs.IO, "", "%s: image is %d x %d = %s pixels, over the limit of %d pixels (%s)",
			name, w, h, n, l.Pixels, src).WithHint("%s", RaiseHint)
	}
	return nil
}

// Header is what an image file's header says.
type Header struct {
	Format        string // "png", "jpeg", "gif", "bmp", "webp", "tiff", "pnm", "sunras"
	Width, Height int
}

// Formats ReadHeader recognises, with their magic numbers.
var magics = []struct {
	format string
	magic  string // '?' matches any byte
}{
	{"png", "\x89PNG\r\n\x1a\n"},
	{"jpeg", "\xff\xd8"},
	{"gif", "GIF8"},
	{"bmp", "BM"},
	{"webp", "RIFF????WEBP"},
	{"tiff", "II*\x00"},
	{"tiff", "MM\x00*"},
	{"tiff", "II+\x00"}, // BigTIFF
	{"tiff", "MM\x00+"},
	{"sunras", "\x59\xa6\x6a\x95"},
}

func sniff(p []byte) string {
	for _, m := range magics {
		if len(p) < len(m.magic) {
			continue
		}
		ok := true
		for i := 0; i < len(m.magic) && ok; i++ {
			ok = m.magic[i] == '?' || m.magic[i] == p[i]
		}
		if ok {
			return m.format
		}
	}
	if len(p) >= 2 && p[0] == 'P' && (p[1] >= '1' && p[1] <= '7' || p[1] == 'F' || p[1] == 'f') {
		return "pnm" // PBM, PGM, PPM, PAM, PFM
	}
	return ""
}

// errUnknown is returned for a file whose format ReadHeader does not know.
var errUnknown = errors.New("unknown format: not PNG, JPEG, GIF, BMP, WebP, TIFF, PBM/PGM/PPM/PAM/PFM or Sun raster")

// ReadHeader reads only the header of the image in r and returns its format
// and size; it does not decode pixels and allocates a few kilobytes whatever
// the header says. PNG, JPEG and GIF are read by the standard library's
// DecodeConfig; BMP, WebP, TIFF (first IFD, BigTIFF too), the PNM family
// and Sun raster by small parsers here, so that the files OpenCV reads are
// covered. Any other format is an error: its size cannot be checked.
func ReadHeader(r io.Reader) (Header, error) {
	br := bufio.NewReaderSize(r, 512)
	p, _ := br.Peek(16)
	h := Header{Format: sniff(p)}
	var err error
	switch h.Format {
	case "png", "jpeg", "gif":
		var c image.Config
		switch h.Format {
		case "png":
			c, err = png.DecodeConfig(br)
		case "jpeg":
			c, err = jpeg.DecodeConfig(br)
		default:
			c, err = gif.DecodeConfig(br)
		}
		h.Width, h.Height = c.Width, c.Height
	case "bmp":
		h.Width, h.Height, err = bmpHeader(br)
	case "webp":
		h.Width, h.Height, err = webpHeader(br)
	case "tiff":
		h.Width, h.Height, err = tiffHeader(br)
	case "pnm":
		h.Width, h.Height, err = pnmHeader(br)
	case "sunras":
		h.Width, h.Height, err = sunHeader(br)
	default:
		if len(p) == 0 {
			return h, errors.New("empty file")
		}
		return h, errUnknown
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return h, fmt.Errorf("%s header: %w", FormatName(h.Format), err)
	}
	if h.Width <= 0 || h.Height <= 0 {
		return h, fmt.Errorf("%s header: size %d x %d", FormatName(h.Format), h.Width, h.Height)
	}
	return h, nil
}

func readN(r io.Reader, b []byte) error {
	_, err := io.ReadFull(r, b)
	return err
}

// bmpHeader reads BITMAPFILEHEADER and the width and height of the DIB
// header (BITMAPCOREHEADER: 16-bit; the others: signed 32-bit, a negative
// height meaning top-down rows).
func bmpHeader(r io.Reader) (w, h int, err error) {
	var b [26]byte
	if err := readN(r, b[:18]); err != nil {
		return 0, 0, err
	}
	switch n := binary.LittleEndian.Uint32(b[14:18]); {
	case n == 12:
		if err := readN(r, b[18:22]); err != nil {
			return 0, 0, err
		}
		return int(binary.LittleEndian.Uint16(b[18:])), int(binary.LittleEndian.Uint16(b[20:])), nil
	case n >= 16 && n <= 1<<16:
		if err := readN(r, b[18:26]); err != nil {
			return 0, 0, err
		}
		w := int64(int32(binary.LittleEndian.Uint32(b[18:])))
		h := int64(int32(binary.LittleEndian.Uint32(b[22:])))
		if h < 0 {
			h = -h
		}
		return int(w), int(h), nil
	default:
		return 0, 0, fmt.Errorf("DIB header size %d", n)
	}
}

// webpHeader reads the first chunk after "RIFF size WEBP": VP8 (lossy: the
// key frame's 14-bit sizes), VP8L (lossless: 14-bit sizes minus one) or
// VP8X (extended: 24-bit canvas sizes minus one).
func webpHeader(r io.Reader) (w, h int, err error) {
	var b [30]byte
	if err := readN(r, b[:20]); err != nil {
		return 0, 0, err
	}
	switch string(b[12:16]) {
	case "VP8 ":
		if err := readN(r, b[20:30]); err != nil {
			return 0, 0, err
		}
		f := b[20:30]
		if f[0]&1 != 0 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
			return 0, 0, errors.New("VP8 chunk is not a key frame")
		}
		return int(binary.LittleEndian.Uint16(f[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(f[8:]) & 0x3fff), nil
	case "VP8L":
		if err := readN(r, b[20:25]); err != nil {
			return 0, 0, err
		}
		if b[20] != 0x2f {
			return 0, 0, errors.New("bad VP8L signature")
		}
		v := binary.LittleEndian.Uint32(b[21:25])
		if v>>29 != 0 {
			return 0, 0, errors.New("bad VP8L version")
		}
		return int(v&0x3fff) + 1, int(v>>14&0x3fff) + 1, nil
	case "VP8X":
		if err := readN(r, b[20:30]); err != nil {
			return 0, 0, err
		}
		u24 := func(p []byte) int { return int(p[0]) | int(p[1])<<8 | int(p[2])<<16 }
		return u24(b[24:]) + 1, u24(b[27:]) + 1, nil
	default:
		return 0, 0, fmt.Errorf("first chunk %q is not VP8, VP8L or VP8X", b[12:16])
	}
}

// tiffHeader reads ImageWidth (256) and ImageLength (257) from the first
// IFD of a TIFF or BigTIFF file, skipping forward to it (an IFD before the
// current position is refused). Each must be a single BYTE, SHORT, LONG or
// LONG8 value.
func tiffHeader(br *bufio.Reader) (w, h int, err error) {
	var b [20]byte
	if err := readN(br, b[:8]); err != nil {
		return 0, 0, err
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if b[0] == 'M' {
		bo = binary.BigEndian
	}
	big := bo.Uint16(b[2:]) == 43
	pos := uint64(8)
	var off uint64
	if big {
		if err := readN(br, b[8:16]); err != nil {
			return 0, 0, err
		}
		pos = 16
		if bo.Uint16(b[4:]) != 8 {
			return 0, 0, errors.New("BigTIFF offset size is not 8")
		}
		off = bo.Uint64(b[8:])
	} else {
		off = uint64(bo.Uint32(b[4:]))
	}
	if off < pos {
		return 0, 0, fmt.Errorf("first IFD at offset %d, inside the header", off)
	}
	if n, err := br.Discard(int(min(off-pos, 1<<62))); err != nil {
		return 0, 0, fmt.Errorf("first IFD at offset %d: file ends at %d: %w", off, pos+uint64(n), err)
	}
	entry, cnt := 12, 2
	if big {
		entry, cnt = 20, 8
	}
	if err := readN(br, b[:cnt]); err != nil {
		return 0, 0, err
	}
	var n uint64
	if big {
		n = bo.Uint64(b[:8])
	} else {
		n = uint64(bo.Uint16(b[:2]))
	}
	var width, height int64 = -1, -1
	for i := uint64(0); i < n && (width < 0 || height < 0); i++ {
		if err := readN(br, b[:entry]); err != nil {
			return 0, 0, err
		}
		tag := bo.Uint16(b[0:])
		if tag != 256 && tag != 257 {
			continue
		}
		typ := bo.Uint16(b[2:])
		var count uint64
		val := b[8:]
		if big {
			count = bo.Uint64(b[4:])
			val = b[12:]
		} else {
			count = uint64(bo.Uint32(b[4:]))
		}
		if count != 1 {
			return 0, 0, fmt.Errorf("tag %d has %d values, want 1", tag, count)
		}
		var v int64
		switch typ {
		case 1: // BYTE
			v = int64(val[0])
		case 3: // SHORT
			v = int64(bo.Uint16(val))
		case 4: // LONG
			v = int64(bo.Uint32(val))
		case 16: // LONG8 (BigTIFF)
			if !big {
				return 0, 0, fmt.Errorf("tag %d has type LONG8 outside BigTIFF", tag)
			}
			u := bo.Uint64(val)
			if u > 1<<40 {
				return 0, 0, fmt.Errorf("tag %d is %d", tag, u)
			}
			v = int64(u)
		default:
			return 0, 0, fmt.Errorf("tag %d has type %d, want BYTE, SHORT or LONG", tag, typ)
		}
		if tag == 256 {
			width = v
		} else {
			height = v
		}
	}
	if width < 0 || height < 0 {
		return 0, 0, errors.New("first IFD has no ImageWidth or ImageLength")
	}
	return int(width), int(height), nil
}

// pnmHeader reads the size of a PBM/PGM/PPM (P1–P6: magic, width, height,
// with # comments), PFM (PF/Pf: magic, width, height) or PAM (P7: WIDTH and
// HEIGHT lines before ENDHDR) header. It reads at most 4 KiB.
func pnmHeader(br *bufio.Reader) (w, h int, err error) {
	r := &io.LimitedReader{R: br, N: 4096}
	var magic [2]byte
	if err := readN(r, magic[:]); err != nil {
		return 0, 0, err
	}
	var tok [24]byte
	next := func() (string, error) { // the next whitespace-separated token, skipping # comments
		n := 0
		var c [1]byte
		for {
			if _, err := io.ReadFull(r, c[:]); err != nil {
				if n > 0 && err == io.EOF {
					return string(tok[:n]), nil
				}
				return "", err
			}
			switch {
			case c[0] == '#' && n == 0:
				for c[0] != '\n' && c[0] != '\r' {
					if _, err := io.ReadFull(r, c[:]); err != nil {
						return "", err
					}
				}
			case c[0] == ' ' || c[0] == '\t' || c[0] == '\n' || c[0] == '\r' || c[0] == '\v' || c[0] == '\f':
				if n > 0 {
					return string(tok[:n]), nil
				}
			case n == len(tok):
				return "", errors.New("header token too long")
			default:
				tok[n] = c[0]
				n++
			}
		}
	}
	num := func() (int, error) {
		s, err := next()
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseUint(s, 10, 31)
		if err != nil {
			return 0, fmt.Errorf("size %q is not a whole number below 2^31", s)
		}
		return int(v), nil
	}
	if magic[1] != '7' {
		if w, err = num(); err != nil {
			return 0, 0, err
		}
		h, err = num()
		return w, h, err
	}
	w, h = -1, -1
	for {
		s, err := next()
		if err != nil {
			return 0, 0, err
		}
		switch s {
		case "WIDTH":
			if w, err = num(); err != nil {
				return 0, 0, err
			}
		case "HEIGHT":
			if h, err = num(); err != nil {
				return 0, 0, err
			}
		case "ENDHDR":
			if w < 0 || h < 0 {
				return 0, 0, errors.New("PAM header has no WIDTH or HEIGHT")
			}
			return w, h, nil
		}
	}
}

// sunHeader reads a Sun raster header's 32-bit big-endian width and height.
func sunHeader(r io.Reader) (w, h int, err error) {
	var b [12]byte
	if err := readN(r, b[:]); err != nil {
		return 0, 0, err
	}
	w64, h64 := int64(binary.BigEndian.Uint32(b[4:])), int64(binary.BigEndian.Uint32(b[8:]))
	return int(w64), int(h64), nil
}

// CheckFile reads the header of the image file at path and checks its size
// against the limit that ResolveLimit(maxPixels) gives. Errors are
// *errs.Error with an empty Op (callers add theirs with errs.Wrap): io,
// naming path, for a missing file, an unreadable or unknown header, or an
// image over the limit (with the size, the limit and how to raise it);
// bad_arg for a bad limit.
func CheckFile(path string, maxPixels int64) (Header, error) {
	lim, err := ResolveLimit(maxPixels)
	if err != nil {
		return Header{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Header{}, openError(path, err)
	}
	defer f.Close()
	h, err := ReadHeader(f)
	if err != nil {
		he := &HeaderError{err}
		return h, &errs.Error{Kind: errs.IO, Msg: fmt.Sprintf("%s: %v", path, he), Err: he}
	}
	return h, lim.Check(path, h.Width, h.Height)
}

// HeaderError is the cause of CheckFile's and Decode's error when the header
// cannot be read or its format is unknown (errors.As finds it).
type HeaderError struct{ Err error }

func (e *HeaderError) Error() string { return "cannot read the image header: " + e.Err.Error() }
func (e *HeaderError) Unwrap() error { return e.Err }

func openError(path string, err error) error {
	msg := err
	var pe *os.PathError
	if errors.As(err, &pe) {
		msg = pe.Err
	}
	return &errs.Error{Kind: errs.IO, Msg: fmt.Sprintf("%s: %v", path, msg), Err: err}
}

// Decode checks the header of the image in r against the limit
// ResolveLimit(maxPixels) gives, then decodes it (PNG, JPEG or GIF). name
// names the image in errors ("" for "image"). The decoded image has the
// header's size (a GIF's first frame lies inside it). Errors are as
// CheckFile's.
func Decode(r io.Reader, name string, maxPixels int64) (image.Image, Header, error) {
	if name == "" {
		name = "image"
	}
	lim, err := ResolveLimit(maxPixels)
	if err != nil {
		return nil, Header{}, err
	}
	// Keep what the header check reads, then replay it to the decoder.
	var seen bytes.Buffer
	br := bufio.NewReaderSize(io.TeeReader(r, &seen), 512)
	p, _ := br.Peek(16)
	if f := sniff(p); !GoDecodes(f) {
		err := errors.New("unknown format")
		if f != "" {
			err = fmt.Errorf("%s files are not decoded here", FormatName(f))
		}
		return nil, Header{Format: f}, &errs.Error{Kind: errs.IO, Msg: fmt.Sprintf("%s: %v (want PNG, JPEG or GIF)", name, err), Err: err}
	}
	h, err := ReadHeader(br)
	if err != nil {
		he := &HeaderError{err}
		return nil, h, &errs.Error{Kind: errs.IO, Msg: fmt.Sprintf("%s: %v", name, he), Err: he}
	}
	if err := lim.Check(name, h.Width, h.Height); err != nil {
		return nil, h, err
	}
	rest := io.MultiReader(&seen, r)
	var m image.Image
	switch h.Format {
	case "png":
		m, err = png.Decode(rest)
	case "jpeg":
		m, err = jpeg.Decode(rest)
	default:
		m, err = gif.Decode(rest)
	}
	if err != nil {
		return nil, h, &errs.Error{Kind: errs.IO, Msg: fmt.Sprintf("%s: %v", name, err), Err: err}
	}
	if b := m.Bounds(); !b.In(image.Rect(0, 0, h.Width, h.Height)) || h.Format != "gif" && (b.Dx() != h.Width || b.Dy() != h.Height) {
		return nil, h, errs.New(errs.IO, "", "%s: decoded %v but the header says %d x %d", name, b, h.Width, h.Height)
	}
	return m, h, nil
}

// FormatName is a Header.Format as people write it ("PNG", "WebP", "Sun
// raster").
func FormatName(format string) string {
	switch format {
	case "webp":
		return "WebP"
	case "sunras":
		return "Sun raster"
	}
	return strings.ToUpper(format)
}

// GoDecodes says whether Decode decodes files of a Header.Format: PNG, JPEG
// and GIF, whose standard-library decoders allocate in proportion to the
// header's size.
func GoDecodes(format string) bool { return format == "png" || format == "jpeg" || format == "gif" }

// DecodeFile is Decode on the file at path, naming it in errors.
func DecodeFile(path string, maxPixels int64) (image.Image, Header, error) {
	if _, err := ResolveLimit(maxPixels); err != nil {
		return nil, Header{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, Header{}, openError(path, err)
	}
	defer f.Close()
	return Decode(f, path, maxPixels)
}

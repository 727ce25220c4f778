package airline

import (
	"container/list"
	"hash/maphash"
	"sync"
)

// edgeCache keeps classical edge maps between calls, least recently used
// first out, up to a byte budget. The edge map depends on the image and the
// edge parameters only, not on x: a sweep scores every x on the same images,
// so after the first x an evaluation skips blur, Sobel, non-maximum
// suppression and the logarithm (about a third of its time at 640 x 480).
// Keys hash the pixels, so a buffer reused for another image is never
// mistaken for the old one. A map is kept only the second time its key is
// computed: images seen once (a perturbed copy, a one-off detect) never
// take memory, and a sweep pays one extra edge map per image.
type edgeCache struct {
	mu    sync.Mutex
	max   int64 // bytes
	used  int64
	seed  maphash.Seed
	items map[edgeKey]*list.Element
	order list.List            // front: most recently used *edgeEntry
	seen  map[edgeKey]struct{} // keys computed once and not kept (cleared at seenMax)
}

// seenMax bounds the keys remembered for admission (a few hundred KB).
const seenMax = 2048

type edgeKey struct {
	sum  uint64
	w, h int
	p    EdgeParams
}

type edgeEntry struct {
	key edgeKey
	pix []float32
}

func newEdgeCache(maxBytes int64) *edgeCache {
	if maxBytes <= 0 {
		return nil
	}
	return &edgeCache{max: maxBytes, seed: maphash.MakeSeed(), items: map[edgeKey]*list.Element{}, seen: map[edgeKey]struct{}{}}
}

func (c *edgeCache) key(pix []uint8, w, h int, p EdgeParams) edgeKey {
	return edgeKey{sum: maphash.Bytes(c.seed, pix), w: w, h: h, p: p}
}

// get copies the cached map of k into dst (len(dst) = w*h) and reports
// whether there was one.
func (c *edgeCache) get(k edgeKey, dst []float32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return false
	}
	c.order.MoveToFront(el)
	copy(dst, el.Value.(*edgeEntry).pix)
	return true
}

// put stores a copy of pix under k if k was computed before, evicting the
// least recently used maps beyond the budget; a map larger than the whole
// budget is not kept.
func (c *edgeCache) put(k edgeKey, pix []float32) {
	size := int64(len(pix)) * 4
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	if _, ok := c.seen[k]; !ok {
		if len(c.seen) >= seenMax {
			clear(c.seen)
		}
		c.seen[k] = struct{}{}
		return
	}
	delete(c.seen, k)
	for c.used+size > c.max {
		back := c.order.Back()
		old := back.Value.(*edgeEntry)
		c.order.Remove(back)
		delete(c.items, old.key)
		c.used -= int64(len(old.pix)) * 4
	}
	c.items[k] = c.order.PushFront(&edgeEntry{key: k, pix: append([]float32(nil), pix...)})
	c.used += size
}

// stats returns the number of maps held and their bytes.
func (c *edgeCache) stats() (n int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.used
}

package bindings_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"bohost/host/imgbuf/imgbuftest"
)

// TestAirlineMaxPixels: airline.dataset{dir=, max_pixels=} bounds the images
// of a directory (an image over it is an io error naming the file, the size,
// the limit and the option), and a PNG whose header says 1,000,000 ×
// 1,000,000 is refused at the default limit instead of killing the process
// when airline.env decodes it, or when a bare path reaches
// airline.baseline.
func TestAirlineMaxPixels(t *testing.T) {
	dir := t.TempDir()
	good, bomb := filepath.Join(dir, "good"), filepath.Join(dir, "bomb")
	for _, d := range []string{good, bomb} {
		os.MkdirAll(d, 0o755)
		imgbuftest.WriteFile(t, filepath.Join(d, "a.png"), imgbuftest.PNG(t, 40, 30))
		imgbuftest.WriteFile(t, filepath.Join(d, "a.json"), []byte(`{"width": 40, "height": 30, "lines": [[0,0,5,5]]}`))
	}
	imgbuftest.WriteFile(t, filepath.Join(bomb, "b.png"), imgbuftest.BombPNG(1000000, 1000000))
	imgbuftest.WriteFile(t, filepath.Join(bomb, "b.json"), []byte(`{"width": 1000000, "height": 1000000, "lines": []}`))
	var freed int
	luatest_run(t, fmt.Sprintf(`
		local airline = require "bohost.airline"
		local good, bomb = %q, %q
		local ds = airline.dataset{dir = good, max_pixels = 1200}
		local W = airline.env(ds)
		assert_eq(#W, 1)
		local e = expect_error("io", airline.dataset, {dir = good, max_pixels = 1199})
		assert(e.msg:find(good .. "/a.png", 1, true) and e.msg:find("40 x 30", 1, true) and e.msg:find("1199", 1, true), e.msg)
		assert(e.hint:find("max_pixels", 1, true), e.hint)
		e = expect_error("bad_arg", airline.dataset, {dir = good, max_pixels = 0})
		assert(e.msg:find("max_pixels", 1, true), e.msg)

		local ok, err = pcall(function()
			local d = airline.dataset{dir = bomb}
			return airline.env(d)
		end)
		assert(not ok, "the bomb was decoded")
		assert(err.kind == "io" and err.msg:find(bomb .. "/b.png", 1, true) and err.msg:find("1000000 x 1000000", 1, true), tostring(err))

		-- a bare image path (dataset.Decode) is checked too
		e = expect_error("io", airline.baseline, "lsd", bomb .. "/b.png")
		assert(e.msg:find(bomb .. "/b.png", 1, true) and e.msg:find("over the limit", 1, true), e.msg)
	`, good, bomb), &freed)
}

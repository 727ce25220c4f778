package bindings

import (
	"bohost/host/dataset"
	"bohost/host/imgbuf"
	"bohost/host/metric"
)

func scoreFn(segs []imgbuf.Segment, it dataset.Item) (metric.Score, metric.SoftScore) {
	return metric.FScore(segs, it.Lines, it.Width, it.Height, 0), metric.SoftLP(segs, it.Lines, it.Width, it.Height, 0)
}

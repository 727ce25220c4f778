package main

import (
	"fmt"

	"bohost/host/dataset"
)

// syntheticSet is the fallback data set when York Urban is absent.
func syntheticSet() (*dataset.Dataset, error) {
	return nil, fmt.Errorf("York Urban not found (set BOHOST_SHARED or -data) and dataset.Synthetic is not available yet")
}

package gp_test

import "fmt"

var sprintf = fmt.Sprintf

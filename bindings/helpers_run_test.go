package bindings_test

import (
	"context"

	glua "github.com/yuin/gopher-lua"
)

func glString(s string) glua.LValue { return glua.LString(s) }

func ctxBG() context.Context { return context.Background() }

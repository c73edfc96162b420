package crlfetch_test

import (
	"fmt"
	"strconv"
	"strings"
)

func fmtSscan(path string, n *int) (int, error) { return fmt.Sscan(strings.TrimPrefix(path, "/"), n) }

func itoa(n int) string { return strconv.Itoa(n) }

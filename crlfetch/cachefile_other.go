//go:build !unix

package crlfetch

import (
	"fmt"
	"os"
)

// openCacheFile opens a cache entry for reading, refusing anything but a
// regular file; outside Unix there are no owners and modes to compare.
func openCacheFile(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	return os.Open(path)
}

package server

import (
	"testing"
	"time"
)

func TestForwardedHeaderKeysFindTheirVerdictWithoutCopying(t *testing.T) {
	cache := newVerdictCache(10)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	v := &verdict{reason: "cached", from: now, until: now.Add(time.Hour)}
	req := &Request{Headers: map[string]string{"ssl-client-cert": "-----BEGIN%20CERTIFICATE-----%0AMIIB", "ssl-client-verify": "SUCCESS"}}
	buf := keyBuffers.Get().(*[]byte)
	defer keyBuffers.Put(buf)
	key, ok := presentedKey(req, true, buf)
	if !ok {
		t.Fatal("forwarded headers are not cacheable")
	}
	cache.put(key, v)
	// The buffer is reused for the next request: the cache must hold a copy.
	other := &Request{Headers: map[string]string{"ssl-client-cert": "other", "ssl-client-verify": "SUCCESS"}}
	if _, ok := presentedKey(other, true, buf); !ok {
		t.Fatal("second key not cacheable")
	}
	if _, hit := cache.get(key, now); hit {
		t.Error("a different presentation found the first one's verdict")
	}
	key, _ = presentedKey(req, true, buf)
	if got, hit := cache.get(key, now); !hit || got != v {
		t.Errorf("get after the buffer was reused = %v, %v; want the stored verdict", got, hit)
	}
	allocs := testing.AllocsPerRun(100, func() {
		key, _ := presentedKey(req, true, buf)
		if _, hit := cache.get(key, now); !hit {
			t.Fatal("miss")
		}
	})
	if allocs != 0 {
		t.Errorf("a cache hit on forwarded headers allocates %v times, want 0", allocs)
	}
	if _, ok := presentedKey(&Request{PeerCertificate: "\x00x"}, true, buf); ok {
		t.Error("a peer certificate starting with NUL is cacheable")
	}
}

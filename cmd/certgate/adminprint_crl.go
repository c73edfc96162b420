package main

import (
	"fmt"
	"io"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// printCRLFetch prints one block per CRL URL: whether its CRL is held,
// the last success and its age, the validators, the CRL's dates and the
// last error.
func printCRLFetch(w io.Writer, st *adminv1.CRLFetchStatus) {
	if st == nil {
		return
	}
	for _, s := range st.GetSources() {
		kind := "configured"
		if s.GetLearned() {
			kind = "learned"
		}
		state := "no CRL held"
		switch {
		case s.GetAvailable() && s.GetFromCache():
			state = "CRL #" + s.GetNumber() + " from the cache"
		case s.GetAvailable():
			state = "CRL #" + s.GetNumber()
		}
		fmt.Fprintf(w, "CRL URL    %s (%s): %s\n", s.GetUrl(), kind, state)
		fmt.Fprintf(w, "           last success %s, next fetch %s\n", when(s.GetLastSuccess()), when(s.GetNextAttempt()))
		if s.GetAvailable() {
			fmt.Fprintf(w, "           this update %s, next update %s\n", when(s.GetThisUpdate()), when(s.GetNextUpdate()))
		}
		if s.GetEtag() != "" || s.GetLastModified() != "" {
			fmt.Fprintf(w, "           etag %s, last-modified %s\n", orDash(s.GetEtag()), orDash(s.GetLastModified()))
		}
		if s.GetLastError() != "" {
			fmt.Fprintf(w, "           error (%d in a row): %s\n", s.GetFailures(), s.GetLastError())
		}
	}
	if st.GetLearnedRefused() > 0 || st.GetLearnedDropped() > 0 {
		fmt.Fprintf(w, "CRL URLs   not learned: %d outside the allowed prefixes, %d past max_urls\n", st.GetLearnedRefused(), st.GetLearnedDropped())
	}
}

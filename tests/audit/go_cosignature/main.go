// Command go_cosignature checks a Loket checkpoint note with Go's reference code: the log's
// signature with golang.org/x/mod/sumdb/note and a witness's cosignature/v1 with
// github.com/transparency-dev/formats/note. Built at test time (tests/audit/test_witness.py).
//
// Usage: go_cosignature <log vkey> <witness cosignature vkey> <note file>
// Prints one line per verified signature ("<name> <timestamp or 0>") and exits 0 when both
// the log and the witness signatures verify, 1 otherwise.
package main

import (
	"fmt"
	"os"

	tdnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go_cosignature <log vkey> <witness vkey> <note file>")
		os.Exit(2)
	}
	logV, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "log vkey:", err)
		os.Exit(2)
	}
	witV, err := tdnote.NewVerifierForCosignatureV1(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "witness vkey:", err)
		os.Exit(2)
	}
	msg, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	n, err := note.Open(msg, note.VerifierList(logV, witV))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(1)
	}
	seenLog, seenWit := false, false
	for _, s := range n.Sigs {
		ts := int64(0)
		if s.Hash == witV.KeyHash() && s.Name == witV.Name() {
			t, err := tdnote.CoSigV1Timestamp(s)
			if err != nil {
				fmt.Fprintln(os.Stderr, "timestamp:", err)
				os.Exit(1)
			}
			ts = t.Unix()
			seenWit = true
		}
		if s.Hash == logV.KeyHash() && s.Name == logV.Name() {
			seenLog = true
		}
		fmt.Printf("%s %d\n", s.Name, ts)
	}
	if !seenLog || !seenWit {
		fmt.Fprintln(os.Stderr, "missing a log or witness signature")
		os.Exit(1)
	}
}

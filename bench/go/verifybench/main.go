// verifybench: chains per second that Go's crypto/x509 validates — the reference point for
// fleetpki's verify benchmark. Usage:
//
//	verifybench -root root.pem -intermediate int.pem -leaf leaf.pem [-time RFC3339] [-eku client|server|any] [-duration 2s]
//
// Measures Certificate.Verify twice: with certificates parsed once up front ("preParsedPerSec"),
// and parsing root, intermediates and leaf from DER on every round ("parseAndVerifyPerSec").
// Prints one JSON object; exits 1 if the chain does not verify.
package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

func readDers(path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			out = append(out, b.Bytes)
		}
	}
	if len(out) == 0 {
		fmt.Fprintf(os.Stderr, "%s: no CERTIFICATE blocks\n", path)
		os.Exit(2)
	}
	return out
}

func parseAll(ders [][]byte) []*x509.Certificate {
	out := make([]*x509.Certificate, len(ders))
	for i, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		out[i] = c
	}
	return out
}

type setup struct {
	roots, inters [][]byte
	leaf          []byte
	eku           x509.ExtKeyUsage
	at            time.Time
}

func (s *setup) options(roots, inters []*x509.Certificate) x509.VerifyOptions {
	o := x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(),
		KeyUsages: []x509.ExtKeyUsage{s.eku}, CurrentTime: s.at}
	for _, c := range roots {
		o.Roots.AddCert(c)
	}
	for _, c := range inters {
		o.Intermediates.AddCert(c)
	}
	return o
}

// rate runs f for d (after a short warm-up) and returns calls per second.
func rate(d time.Duration, f func()) float64 {
	warm := time.Now().Add(d / 10)
	for time.Now().Before(warm) {
		f()
	}
	n := 0
	start := time.Now()
	deadline := start.Add(d)
	for time.Now().Before(deadline) {
		for i := 0; i < 16; i++ {
			f()
		}
		n += 16
	}
	return float64(n) / time.Since(start).Seconds()
}

func main() {
	root := flag.String("root", "", "PEM file with trust anchors (required)")
	inter := flag.String("intermediate", "", "PEM file with intermediates")
	leaf := flag.String("leaf", "", "PEM file whose first certificate is the leaf (required)")
	at := flag.String("time", "", "RFC 3339 validation time (default now)")
	eku := flag.String("eku", "any", "required EKU: client, server, any")
	dur := flag.Duration("duration", 2*time.Second, "how long to measure each mode")
	flag.Parse()
	if *root == "" || *leaf == "" {
		fmt.Fprintln(os.Stderr, "usage: verifybench -root root.pem [-intermediate int.pem] -leaf leaf.pem [-time RFC3339] [-eku client|server|any] [-duration 2s]")
		os.Exit(2)
	}
	s := &setup{roots: readDers(*root), leaf: readDers(*leaf)[0], at: time.Now()}
	if *inter != "" {
		s.inters = readDers(*inter)
	}
	switch *eku {
	case "client":
		s.eku = x509.ExtKeyUsageClientAuth
	case "server":
		s.eku = x509.ExtKeyUsageServerAuth
	case "any":
		s.eku = x509.ExtKeyUsageAny
	default:
		fmt.Fprintf(os.Stderr, "bad -eku %q\n", *eku)
		os.Exit(2)
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad -time: %v\n", err)
			os.Exit(2)
		}
		s.at = t
	}

	roots, inters := parseAll(s.roots), parseAll(s.inters)
	leafCert := parseAll([][]byte{s.leaf})[0]
	opts := s.options(roots, inters)
	if _, err := leafCert.Verify(opts); err != nil {
		fmt.Printf("FAIL: %v\n", err)
		os.Exit(1)
	}
	pre := rate(*dur, func() {
		if _, err := leafCert.Verify(opts); err != nil {
			panic(err)
		}
	})
	all := append([][]byte{s.leaf}, append(append([][]byte{}, s.roots...), s.inters...)...)
	full := rate(*dur, func() {
		cs := parseAll(all)
		o := s.options(cs[1:1+len(s.roots)], cs[1+len(s.roots):])
		if _, err := cs[0].Verify(o); err != nil {
			panic(err)
		}
	})
	out, _ := json.Marshal(map[string]any{
		"preParsedPerSec":      pre,
		"parseAndVerifyPerSec": full,
		"chainLength":          1 + len(s.inters) + 1,
		"go":                   runtime.Version(),
	})
	fmt.Println(string(out))
}

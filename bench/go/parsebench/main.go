// parsebench: how many certificates per second Go's crypto/x509 parses — the reference point for
// fleetpki's parse benchmark. Usage: parsebench [-duration 2s] bundle.pem
// PEM is decoded to DER before timing, so only x509.ParseCertificate is measured. Certificates
// Go rejects are left out of the loop (reported as "rejected"). Prints one JSON object.
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

func main() {
	dur := flag.Duration("duration", 2*time.Second, "how long to measure")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: parsebench [-duration 2s] bundle.pem")
		os.Exit(2)
	}
	data, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var ders [][]byte
	rejected := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			rejected++
			continue
		}
		ders = append(ders, b.Bytes)
	}
	if len(ders) == 0 {
		fmt.Fprintln(os.Stderr, "no parseable CERTIFICATE blocks")
		os.Exit(2)
	}
	// Warm up for a tenth of the run so the heap and caches settle.
	warm := time.Now().Add(*dur / 10)
	for time.Now().Before(warm) {
		for _, d := range ders {
			_, _ = x509.ParseCertificate(d)
		}
	}
	n := 0
	start := time.Now()
	deadline := start.Add(*dur)
	for time.Now().Before(deadline) {
		for _, d := range ders {
			if _, err := x509.ParseCertificate(d); err != nil {
				panic(err)
			}
		}
		n += len(ders)
	}
	el := time.Since(start).Seconds()
	out, _ := json.Marshal(map[string]any{
		"certsPerSec": float64(n) / el,
		"certs":       len(ders),
		"rejected":    rejected,
		"parsed":      n,
		"seconds":     el,
		"go":          runtime.Version(),
	})
	fmt.Println(string(out))
}

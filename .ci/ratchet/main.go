// Command ratchet compares the results of the conformance suite or the SDK
// tests with the list of names that must pass (.ci/KIND-expected.txt, one
// name per line, sorted). It prints one line per scenario or test, the newly
// passing names and the expected names that did not pass, and exits 1 when
// there are any of the latter. With -write it rewrites the list from what
// passed instead.
//
//	go run ./.ci/ratchet -kind conformance -results conformance.jsonl -expected .ci/conformance-expected.txt [-write]
//
// Results: for -kind conformance, the JSON lines of `conformance -json`
// (scenario, result "ok" or "FAIL", step, request, differences, error); for
// -kind jsclient, those of .ci/jsclient-reporter.mjs (file, name, status,
// error), keyed "file: name"; -kind dashboard, the same lines, made by
// .ci/tap-results.mjs from the dashboard check's TAP output.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

type result struct {
	key    string
	passed bool
	detail string // why it failed
}

func main() {
	kind := flag.String("kind", "", "conformance, jsclient or dashboard")
	resultsPath := flag.String("results", "", "results file (JSON lines)")
	expectedPath := flag.String("expected", "", "list of names that must pass")
	write := flag.Bool("write", false, "rewrite the expected list from what passed")
	flag.Parse()
	if err := run(*kind, *resultsPath, *expectedPath, *write); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", *kind, err)
		os.Exit(1)
	}
}

func run(kind, resultsPath, expectedPath string, write bool) error {
	results, err := readResults(kind, resultsPath)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("%s holds no results", resultsPath)
	}
	passed := map[string]bool{}
	why := map[string]string{} // the failures' details, repeated in the summary
	var failed int
	for _, r := range results {
		if r.passed {
			passed[r.key] = true
			fmt.Printf("ok   %s\n", r.key)
		} else {
			failed++
			why[r.key] = clip(r.detail, 240)
			fmt.Printf("FAIL %s%s\n", r.key, why[r.key])
		}
	}
	fmt.Printf("%s: %d passed, %d failed\n", kind, len(passed), failed)

	if write {
		names := make([]string, 0, len(passed))
		for k := range passed {
			names = append(names, k)
		}
		slices.Sort(names)
		data := strings.Join(names, "\n")
		if data != "" {
			data += "\n"
		}
		if err := os.WriteFile(expectedPath, []byte(data), 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: wrote %d names to %s\n", kind, len(names), expectedPath)
		return nil
	}

	expected, err := readList(expectedPath)
	if err != nil {
		return err
	}
	var lost, gained []string
	isExpected := map[string]bool{}
	for _, name := range expected {
		isExpected[name] = true
		if !passed[name] {
			lost = append(lost, name)
		}
	}
	for name := range passed {
		if !isExpected[name] {
			gained = append(gained, name)
		}
	}
	slices.Sort(gained)
	if len(gained) > 0 {
		fmt.Printf("%s: %d newly passing, not yet in %s (add them with .ci/update-expected):\n", kind, len(gained), expectedPath)
		for _, name := range gained {
			fmt.Printf("  + %s\n", name)
		}
	}
	if len(lost) > 0 {
		fmt.Printf("%s: %d of the %d expected to pass did not:\n", kind, len(lost), len(expected))
		for _, name := range lost {
			fmt.Printf("  - %s%s\n", name, why[name])
		}
		return fmt.Errorf("%d expected to pass did not (see above)", len(lost))
	}
	fmt.Printf("%s: all %d expected to pass did\n", kind, len(expected))
	return nil
}

func readResults(kind, path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []result
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue // the conformance summary line
		}
		var r result
		switch kind {
		case "conformance":
			var v struct {
				Scenario, Result, Step, Request, Error string
				Differences                            []json.RawMessage
			}
			if err := json.Unmarshal(line, &v); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			r = result{key: v.Scenario, passed: v.Result == "ok"}
			if !r.passed {
				where := strings.TrimSpace(v.Step + " " + v.Request)
				if where != "" {
					r.detail = ": " + where
				}
				switch {
				case len(v.Differences) > 0:
					r.detail += ": " + difference(v.Differences[0])
					if n := len(v.Differences) - 1; n > 0 {
						r.detail += fmt.Sprintf(" (+%d more)", n)
					}
				case v.Error != "":
					r.detail += ": " + v.Error
				}
			}
		case "jsclient", "dashboard":
			var v struct{ File, Name, Status, Error string }
			if err := json.Unmarshal(line, &v); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if v.Status == "skip" {
				continue
			}
			r = result{key: v.File + ": " + v.Name, passed: v.Status == "pass"}
			if v.Error != "" {
				r.detail = ": " + v.Error
			}
		default:
			return nil, errors.New("-kind must be conformance, jsclient or dashboard")
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// readList reads one name per line; a missing file is an empty list.
func readList(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	return names, nil
}

// difference renders one entry of a scenario's differences:
// {"path", "expected", "got"}, as the conformance runner's text output does.
func difference(raw json.RawMessage) string {
	var d struct{ Path, Expected, Got string }
	if err := json.Unmarshal(raw, &d); err != nil {
		return string(raw)
	}
	return fmt.Sprintf("%s: expected %s, got %s", d.Path, d.Expected, d.Got)
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

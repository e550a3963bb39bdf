// Load generator for MCP Streamable HTTP servers: N concurrent clients, each with its own
// 2025-11-25 session (initialize + notifications/initialized), sharing M tools/call requests.
// Written in Go so that the client is never the bottleneck; prints one JSON summary line.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type summary struct {
	Clients    int     `json:"clients"`
	Calls      int     `json:"calls"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"calls_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
}

var (
	url      = flag.String("url", "http://127.0.0.1:8080/mcp", "MCP endpoint")
	clients  = flag.Int("clients", 1000, "concurrent clients (one session each)")
	calls    = flag.Int("calls", 5000, "tools/call requests in total")
	tool     = flag.String("tool", "list_toolchains", "tool to call")
	args     = flag.String("args", "{}", "tool arguments as JSON")
	token    = flag.String("token", "", "bearer token")
	timeout  = flag.Duration("timeout", 120*time.Second, "per-request timeout")
	firstErr atomic.Value
)

func post(c *http.Client, session string, body []byte) (string, []byte, error) {
	req, _ := http.NewRequest("POST", *url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == 202 {
		io.Copy(io.Discard, resp.Body)
		return resp.Header.Get("Mcp-Session-Id"), nil, nil
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return "", nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	sid := resp.Header.Get("Mcp-Session-Id")
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "data:") {
				data := []byte(strings.TrimSpace(line[5:]))
				var m map[string]any
				if json.Unmarshal(data, &m) == nil {
					if _, ok := m["id"]; ok {
						if _, isReq := m["method"]; !isReq {
							io.Copy(io.Discard, resp.Body)
							return sid, data, nil
						}
					}
				}
			}
		}
		return sid, nil, fmt.Errorf("SSE stream ended without a response")
	}
	b, err := io.ReadAll(resp.Body)
	return sid, b, err
}

func check(data []byte) error {
	var m struct {
		Result *struct {
			IsError bool `json:"isError"`
		} `json:"result"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if m.Error != nil {
		return fmt.Errorf("JSON-RPC error: %s", m.Error.Message)
	}
	if m.Result == nil {
		return fmt.Errorf("no result")
	}
	if m.Result.IsError {
		return fmt.Errorf("tool error: %s", string(data))
	}
	return nil
}

func fail(errs *int64, err error) {
	atomic.AddInt64(errs, 1)
	firstErr.CompareAndSwap(nil, err.Error())
}

func main() {
	flag.Parse()
	tr := &http.Transport{MaxIdleConns: *clients * 2, MaxIdleConnsPerHost: *clients * 2, IdleConnTimeout: time.Minute}
	c := &http.Client{Transport: tr, Timeout: *timeout}
	var errs int64
	var mu sync.Mutex
	lat := make([]float64, 0, *calls)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *clients; i++ {
		n := *calls / *clients
		if i < *calls%*clients {
			n++
		}
		wg.Add(1)
		go func(i, n int) {
			defer wg.Done()
			init := fmt.Sprintf(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"loadgen","version":"1"}}}`)
			sid, data, err := post(c, "", []byte(init))
			if err != nil {
				fail(&errs, fmt.Errorf("initialize: %w", err))
				return
			}
			if data == nil || sid == "" {
				fail(&errs, fmt.Errorf("initialize: no session id"))
				return
			}
			if _, _, err := post(c, sid, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)); err != nil {
				fail(&errs, fmt.Errorf("initialized: %w", err))
				return
			}
			for k := 0; k < n; k++ {
				body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, k+1, *tool, *args)
				t0 := time.Now()
				_, data, err := post(c, sid, []byte(body))
				if err == nil {
					err = check(data)
				}
				if err != nil {
					fail(&errs, err)
					continue
				}
				d := float64(time.Since(t0).Microseconds()) / 1000
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}(i, n)
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	sort.Float64s(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(p*float64(len(lat)-1))]
	}
	s := summary{Clients: *clients, Calls: *calls, Errors: errs, Seconds: el,
		PerSecond: float64(len(lat)) / el, P50ms: pct(0.5), P99ms: pct(0.99), MaxMs: pct(1)}
	if v := firstErr.Load(); v != nil {
		s.FirstError = v.(string)
	}
	json.NewEncoder(os.Stdout).Encode(s)
}

// The Go peer of P1: a line server with the shape of the reference sidecar's (cloud-event-proxy) ingest, written
// for this benchmark: a bufio.Scanner per connection; per line the `[`, `]`, `:` replaced by spaces
// (strings.NewReplacer), the config name found by a regular expression, strings.Fields, strconv.ParseFloat, a
// per-clock stats record behind a mutex, and the openshift_ptp_* gauges set through the prometheus client
// (GaugeVec.With(prometheus.Labels{...}).Set), as the reference does per line. `CMD COUNT` answers the number of
// lines read so far (the benchmark's end marker); other CMD lines are ignored. It runs with Go's runtime defaults
// (GOMAXPROCS = the CPUs, GOGC 100) and prints them with its `listening` line.
//
// Usage: goPeer SOCKET_PATH NODE_NAME
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	labels   = []string{"from", "process", "node", "iface"}
	offset   = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "openshift", Subsystem: "ptp", Name: "offset_ns", Help: "offset"}, labels)
	maxOff   = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "openshift", Subsystem: "ptp", Name: "max_offset_ns", Help: "max offset"}, labels)
	freq     = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "openshift", Subsystem: "ptp", Name: "frequency_adjustment_ns", Help: "freq"}, labels)
	delay    = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "openshift", Subsystem: "ptp", Name: "delay_ns", Help: "delay"}, labels)
	state    = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "openshift", Subsystem: "ptp", Name: "clock_state", Help: "state"}, []string{"process", "node", "iface"})
	class    = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "openshift", Subsystem: "ptp", Name: "clock_class", Help: "class"}, []string{"process", "config", "node"})
	cfgName  = regexp.MustCompile(`(ptp4l|ts2phc|phc2sys|synce4l|chronyd)\.[0-9]*\.config`)
	replacer = strings.NewReplacer("[", " ", "]", " ", ":", " ")
	numeric  = regexp.MustCompile(`^\d+$`)
)

type clockStats struct {
	offset, max, freq, delay float64
	state                    string
}

type peer struct {
	node  string
	mu    sync.Mutex
	stats map[string]*clockStats
	lines int64
}

func (p *peer) stat(key string) *clockStats {
	s, ok := p.stats[key]
	if !ok {
		s = &clockStats{}
		p.stats[key] = s
	}
	return s
}

func num(fields []string, i int) float64 {
	if i >= len(fields) {
		return 0
	}
	v, err := strconv.ParseFloat(fields[i], 64)
	if err != nil {
		return 0
	}
	return v
}

func (p *peer) set(from, process, iface string, off, max, fr, dl float64, s string) {
	l := prometheus.Labels{"from": from, "process": process, "node": p.node, "iface": iface}
	offset.With(l).Set(off)
	maxOff.With(l).Set(max)
	freq.With(l).Set(fr)
	delay.With(l).Set(dl)
	st := p.stat(process + "/" + iface)
	st.offset, st.max, st.freq, st.delay = off, max, fr, dl
	if s != "" && s != st.state {
		st.state = s
		v := 0.0
		if s == "s2" || s == "s3" {
			v = 1
		}
		state.With(prometheus.Labels{"process": process, "node": p.node, "iface": iface}).Set(v)
	}
}

// line: one log line, the reference's way (strings, not offsets).
func (p *peer) line(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cfg := cfgName.FindString(text)
	if cfg == "" {
		return
	}
	fields := strings.Fields(replacer.Replace(text))
	if len(fields) < 4 {
		return
	}
	process := fields[0]
	// fields: process, timestamp, config, then the message
	at := 3
	for at < len(fields) && fields[at-1] != cfg {
		at++
	}
	msg := fields[at:]
	// A `[config:level]` tag leaves the level as a field of its own.
	if len(msg) > 0 && numeric.MatchString(msg[0]) {
		msg = msg[1:]
	}
	if len(msg) == 0 {
		return
	}
	switch {
	case process == "ptp4l" && len(msg) > 2 && msg[0] == "master" && msg[1] == "offset":
		o := num(msg, 2)
		p.set("master", process, "slave", o, o, num(msg, 5), num(msg, 8), msg[3])
	case msg[0] == "CLOCK_REALTIME" && len(msg) > 3 && msg[2] == "offset":
		o := num(msg, 3)
		p.set(msg[1], process, "CLOCK_REALTIME", o, o, num(msg, 6), num(msg, 8), msg[4])
	case msg[0] == "CLOCK_REALTIME" && len(msg) > 4 && msg[1] == "rms":
		p.set("phc", process, "CLOCK_REALTIME", num(msg, 2), num(msg, 4), num(msg, 6), num(msg, 10), "")
	case process == "ptp4l" && len(msg) > 3 && msg[0] == "rms":
		p.set("master", process, "slave", num(msg, 1), num(msg, 3), num(msg, 5), num(msg, 9), "")
	case len(msg) > 4 && msg[1] == "master" && msg[2] == "offset":
		o := num(msg, 3)
		p.set("master", process, msg[0], o, o, num(msg, 6), 0, msg[4])
	case msg[0] == "CLOCK_CLASS_CHANGE" && len(msg) > 1:
		class.With(prometheus.Labels{"process": process, "config": cfg, "node": p.node}).Set(num(msg, 1))
	case process == "chronyd" && strings.Contains(text, "Selected source"):
		state.With(prometheus.Labels{"process": process, "node": p.node, "iface": "CLOCK_REALTIME"}).Set(1)
	}
}

func (p *peer) serve(c net.Conn) {
	defer c.Close()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	for sc.Scan() {
		text := sc.Text()
		if strings.HasPrefix(text, "CMD ") {
			if text == "CMD COUNT" {
				fmt.Fprintf(c, "%d\n", atomic.LoadInt64(&p.lines))
			}
			continue
		}
		atomic.AddInt64(&p.lines, 1)
		p.line(text)
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goPeer SOCKET_PATH NODE_NAME")
		os.Exit(64)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(offset, maxOff, freq, delay, state, class)
	l, err := net.Listen("unix", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p := &peer{node: os.Args[2], stats: map[string]*clockStats{}}
	// The runtime settings in effect (the benchmark starts the peer with Go's defaults): GOMAXPROCS and the GC percent.
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	fmt.Printf("listening GOMAXPROCS=%d (CPUs %d), GOGC=%d, %s\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), gc, runtime.Version())
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

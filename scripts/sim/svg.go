package main

// Minimal SVG charts written by hand: the module pins no plotting library
// and the charts need only lines, bars, axes and labels.

import (
	"fmt"
	"html"
	"math"
	"strings"
)

type series struct {
	name  string
	color string
	dash  bool
	x, y  []float64
}

type marker struct {
	x     float64
	label string
}

const (
	chartW, chartH              = 960, 480
	padL, padR, padT, padB      = 70, 220, 40, 50
	plotW, plotH                = chartW - padL - padR, chartH - padT - padB
	fontAttrs                   = `font-family="sans-serif"` // size: the root's 12 unless a text sets its own
	axisColor, gridColor, textC = "#333", "#ddd", "#222"
	markerColor                 = "#c0392b"
	svgHeader                   = `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-size="12">` + "\n"
	backgroundRect              = `<rect width="100%" height="100%" fill="white"/>` + "\n"
	titleFmt                    = `<text x="%d" y="24" %s font-size="15" font-weight="bold" fill="%s">%s</text>` + "\n"
	legendRowHeight             = 16
	legendX                     = chartW - padR + 16
	ticks                       = 5
)

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"}

func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func num(v float64) string {
	if v == math.Trunc(v) || math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

// lineChart draws series over a shared x axis, with vertical markers.
func lineChart(title, xlabel, ylabel string, xmax, ymax float64, ss []series, ms []marker) string {
	if ymax <= 0 {
		for _, s := range ss {
			for _, y := range s.y {
				ymax = max(ymax, y)
			}
		}
		ymax = niceMax(ymax)
	}
	var b strings.Builder
	fmt.Fprintf(&b, svgHeader, chartW, chartH, chartW, chartH)
	b.WriteString(backgroundRect)
	fmt.Fprintf(&b, titleFmt, padL, fontAttrs, textC, html.EscapeString(title))
	px := func(x float64) float64 { return padL + x/xmax*plotW }
	py := func(y float64) float64 { return padT + plotH - y/ymax*plotH }
	axes(&b, xlabel, ylabel, xmax, ymax, px, py)
	for _, m := range ms {
		x := px(m.x)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1" stroke-dasharray="2,3"/>`+"\n", x, padT, x, padT+plotH, markerColor)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" %s font-size="10" fill="%s" transform="rotate(-90 %.1f %d)">%s</text>`+"\n",
			x-3, padT+plotH-4, fontAttrs, markerColor, x-3, padT+plotH-4, html.EscapeString(m.label))
	}
	for i, s := range ss {
		var pts strings.Builder
		for k := range s.x {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(s.x[k]), py(s.y[k]))
		}
		dash := ""
		if s.dash {
			dash = ` stroke-dasharray="5,3"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.4"%s points="%s"/>`+"\n", s.color, dash, strings.TrimSpace(pts.String()))
		ly := padT + i*legendRowHeight
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", legendX, ly+8, legendX+22, ly+8, s.color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" %s fill="%s">%s</text>`+"\n", legendX+28, ly+12, fontAttrs, textC, html.EscapeString(s.name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// hourStep is the x-axis tick step for an axis in hours: a divisor-friendly
// step giving at most eight ticks.
func hourStep(xmax float64) float64 {
	for _, s := range []float64{0.25, 0.5, 1, 2, 3, 4, 6, 12, 24, 48, 168} {
		if xmax/s <= 8 {
			return s
		}
	}
	return niceMax(xmax / 8)
}

func axes(b *strings.Builder, xlabel, ylabel string, xmax, ymax float64, px, py func(float64) float64) {
	for i := 0; i <= ticks; i++ {
		y := ymax * float64(i) / ticks
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", padL, py(y), padL+plotW, py(y), gridColor)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" %s text-anchor="end" fill="%s">%s</text>`+"\n", padL-6, py(y)+4, fontAttrs, textC, num(y))
	}
	step := hourStep(xmax)
	for x := 0.0; x <= xmax+1e-9; x += step {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" %s text-anchor="middle" fill="%s">%s</text>`+"\n", px(x), padT+plotH+16, fontAttrs, textC, num(x))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`+"\n", padL, padT+plotH, padL+plotW, padT+plotH, axisColor)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`+"\n", padL, padT, padL, padT+plotH, axisColor)
	fmt.Fprintf(b, `<text x="%d" y="%d" %s text-anchor="middle" fill="%s">%s</text>`+"\n", padL+plotW/2, chartH-12, fontAttrs, textC, html.EscapeString(xlabel))
	fmt.Fprintf(b, `<text x="16" y="%d" %s text-anchor="middle" fill="%s" transform="rotate(-90 16 %d)">%s</text>`+"\n", padT+plotH/2, fontAttrs, textC, padT+plotH/2, html.EscapeString(ylabel))
}

type barGroup struct {
	label  string
	values []float64 // one per bar series
	bound  float64   // a tick for the policy's worst case (−1: none)
}

// barChart draws grouped bars with an optional bound tick per group.
func barChart(title, ylabel string, barNames, barColors []string, gs []barGroup, boundName string) string {
	ymax := 0.0
	for _, g := range gs {
		for _, v := range g.values {
			ymax = max(ymax, v)
		}
		ymax = max(ymax, g.bound)
	}
	ymax = niceMax(ymax)
	var b strings.Builder
	fmt.Fprintf(&b, svgHeader, chartW, chartH, chartW, chartH)
	b.WriteString(backgroundRect)
	fmt.Fprintf(&b, titleFmt, padL, fontAttrs, textC, html.EscapeString(title))
	py := func(y float64) float64 { return padT + plotH - y/ymax*plotH }
	for i := 0; i <= ticks; i++ {
		y := ymax * float64(i) / ticks
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", padL, py(y), padL+plotW, py(y), gridColor)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" %s text-anchor="end" fill="%s">%s</text>`+"\n", padL-6, py(y)+4, fontAttrs, textC, num(y))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`+"\n", padL, padT+plotH, padL+plotW, padT+plotH, axisColor)
	fmt.Fprintf(&b, `<text x="16" y="%d" %s text-anchor="middle" fill="%s" transform="rotate(-90 16 %d)">%s</text>`+"\n", padT+plotH/2, fontAttrs, textC, padT+plotH/2, html.EscapeString(ylabel))
	gw := float64(plotW) / float64(max(1, len(gs)))
	bw := gw * 0.8 / float64(max(1, len(barNames)))
	for gi, g := range gs {
		x0 := padL + float64(gi)*gw + gw*0.1
		for bi, v := range g.values {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x0+float64(bi)*bw, py(v), bw-1, float64(padT+plotH)-py(v), barColors[bi])
		}
		if g.bound >= 0 {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5"/>`+"\n", x0, py(g.bound), x0+gw*0.8, py(g.bound), markerColor)
		}
		// Long labels take two lines so that neighbours do not overlap.
		first, second := g.label, ""
		if i := strings.LastIndex(g.label, " "); i > 0 && len(g.label) > 12 {
			first, second = g.label[:i], g.label[i+1:]
		}
		for li, line := range []string{first, second} {
			if line != "" {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" %s font-size="11" text-anchor="middle" fill="%s">%s</text>`+"\n",
					x0+gw*0.4, padT+plotH+16+li*13, fontAttrs, textC, html.EscapeString(line))
			}
		}
	}
	for i, n := range barNames {
		ly := padT + i*legendRowHeight
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="18" height="10" fill="%s"/>`+"\n", legendX, ly+3, barColors[i])
		fmt.Fprintf(&b, `<text x="%d" y="%d" %s fill="%s">%s</text>`+"\n", legendX+28, ly+12, fontAttrs, textC, html.EscapeString(n))
	}
	if boundName != "" {
		ly := padT + len(barNames)*legendRowHeight
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"/>`+"\n", legendX, ly+8, legendX+18, ly+8, markerColor)
		fmt.Fprintf(&b, `<text x="%d" y="%d" %s fill="%s">%s</text>`+"\n", legendX+28, ly+12, fontAttrs, textC, html.EscapeString(boundName))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

package transcode

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// nvencEncodesPerGPU is how many 1080p30 H.264 encodes one GPU sustains at
// preset P3 (docs/transcoding.md; from /work/shared/reference/facts.md: one
// NVENC engine does about 600 fps of 1080p at P3, 850+ at P1; T4 and A10G
// have one engine, L4 two, L40S three; data-centre GPUs have no session
// cap beyond the hardware).
var nvencEncodesPerGPU = []struct {
	match   string // substring of nvidia-smi's name
	encodes float64
}{
	{"L40S", 60},
	{"L4", 43},
	{"A10G", 20},
	{"T4", 20},
}

// unknownGPUEncodes is assumed for a GPU not in the table: one engine.
const unknownGPUEncodes = 20

// ladderCost is how many 1080p30 encodes one ladder costs, by pixel rate,
// for a 1080p source.
func ladderCost(l config.Ladder) float64 {
	outs := SelectOutputs(l, SourceInfo{Width: 1920, Height: 1080})
	var cost float64
	for _, o := range outs {
		cost += float64(o.Width*o.Height) / (1920 * 1080)
	}
	return cost
}

// nvencCapacity estimates ladders from the GPU models nvidia-smi lists.
func nvencCapacity(ctx context.Context, l config.Ladder) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=name", "--format=csv,noheader").Output()
	names := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(names) == 0 || names[0] == "" {
		return 0, "nvidia-smi unavailable: set transcode.capacity"
	}
	return gpuLadders(names, ladderCost(l))
}

// gpuLadders sums the encodes of the GPUs named and divides by a ladder's cost.
func gpuLadders(names []string, cost float64) (int, string) {
	var encodes float64
	var parts []string
	for _, n := range names {
		e := float64(unknownGPUEncodes)
		model := "unknown model"
		for _, g := range nvencEncodesPerGPU {
			if strings.Contains(n, g.match) {
				e, model = g.encodes, g.match
				break
			}
		}
		encodes += e
		parts = append(parts, strings.TrimSpace(n)+" ("+model+")")
	}
	if cost <= 0 {
		cost = 1
	}
	ladders := int(encodes / cost)
	return ladders, "NVENC: " + strings.Join(parts, ", ") + ": " + trimFloat(encodes) + " 1080p30 encodes at P3 / " + strconv.FormatFloat(cost, 'f', 2, 64) + " per ladder"
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

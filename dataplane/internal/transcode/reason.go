package transcode

import (
	"regexp"
	"strings"
)

var (
	unknownEncoder = regexp.MustCompile(`Unknown encoder '([^']+)'`)
	noSuchFilter   = regexp.MustCompile(`No such filter: '([^']+)'`)
	// "[h264_nvenc @ 0x5618…] Cannot load libcuda.so.1" → drop the prefix.
	componentPrefix = regexp.MustCompile(`^\[[^\]]+ @ 0x[0-9a-f]+\]\s*`)
	// ffmpeg's generic follow-up lines, which never say why.
	genericLine = regexp.MustCompile(`^(Error initializing output stream|Error while opening encoder|Conversion failed|Error parsing global options|Failed to set value '|Error reinitializing filters|Failed to inject frame|Error while processing the decoded data|Error while filtering|Exiting normally|Last message repeated|Error opening output files|Error initializing filter|Error initializing complex filters|Could not dynamically load CUDA)`)
)

// refusalReason picks the line of ffmpeg's stderr that explains a failed
// test encode: a missing encoder or filter, else the first specific
// message (library, device or session errors), else the process error.
func refusalReason(stderr []byte, err error) string {
	text := string(stderr)
	if m := unknownEncoder.FindStringSubmatch(text); m != nil {
		return "encoder " + m[1] + " not compiled into this ffmpeg"
	}
	if m := noSuchFilter.FindStringSubmatch(text); m != nil {
		return "filter " + m[1] + " not compiled into this ffmpeg"
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(componentPrefix.ReplaceAllString(strings.TrimSpace(line), ""))
		if line == "" || genericLine.MatchString(line) {
			continue
		}
		return strings.TrimSuffix(line, ".")
	}
	// Only generic lines: the first of them is still better than nothing.
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(componentPrefix.ReplaceAllString(strings.TrimSpace(line), "")); line != "" {
			return line
		}
	}
	if err != nil {
		return err.Error()
	}
	return "test encode failed without a message"
}

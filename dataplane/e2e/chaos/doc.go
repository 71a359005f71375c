// Package chaos is the twin-zone cluster's end-to-end fault suite and its
// harness: it runs real zonecast edge processes in a local twin-zone
// set-up (real redis-server and redis-sentinel, two zones of edge nodes, an
// ffmpeg broadcaster over SRT) and injects faults while an HLS reader
// follows the stream; its tests assert the longest stall, the largest gap
// in PROGRAM-DATE-TIME, that the media sequence never goes back and that no
// two nodes lead a stream at once. `make chaos` prints the figures.
package chaos

// Package transcode turns a stream's source into an adaptive-bitrate ladder
// with one supervised ffmpeg process per stream (Debian's ffmpeg, never a
// prebuilt download).
//
// At start-up the Prober really opens each candidate encoder with a
// one-frame test encode (NVENC with CUDA decode and scale_cuda, QSV, VAAPI,
// then libx264) and keeps the reasons of every refusal; the Manager picks
// the first that opened, estimates how many ladders the node carries
// (Capacity) and exports both as Prometheus metrics.
//
// Per stream, a Transcoder (a stream.Sink) copies the source TS into a
// bounded queue (dropping with a count, never blocking ingest), reads the
// source's SPS to choose the rungs that do not upscale, and runs ffmpeg with
// the TS on stdin and each rendition as its own MPEG-TS on its own pipe
// (pipe:3, pipe:4, …). Keyframes are forced on the packager's absolute
// segment grid (see keyframes.go), timestamps are copied (-copyts), so every
// rendition is cut into the same segments. ffmpeg that exits, stalls or falls
// behind real time is killed and restarted with back-off; the ladder
// renditions are told Discontinuity() and the source rendition, fed by its
// own subscription, never notices.
package transcode

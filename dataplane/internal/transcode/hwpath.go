package transcode

import (
	"fmt"
	"strconv"
)

// The hardware paths: how frames get into the encoder's memory, are scaled
// there and encoded. The probe and the per-stream command line use the same
// functions, so what the probe opened is what runs.

// deviceArgs are the global options that open the family's device.
func (c Candidate) deviceArgs(vaapiDevice string) []string {
	switch c.Family {
	case FamilyNVENC:
		return []string{"-init_hw_device", "cuda=cu:0", "-filter_hw_device", "cu"}
	case FamilyQSV:
		return []string{"-init_hw_device", "vaapi=va:" + vaapiDevice, "-init_hw_device", "qsv=qs@va", "-filter_hw_device", "qs"}
	case FamilyVAAPI:
		return []string{"-init_hw_device", "vaapi=va:" + vaapiDevice, "-filter_hw_device", "va"}
	}
	return nil
}

// decodeArgs go before -i: decode on the device, frames stay in its memory.
// srcCodec is "h264" or "hevc" (QSV needs the decoder named).
func (c Candidate) decodeArgs(srcCodec string) []string {
	switch c.Family {
	case FamilyNVENC:
		return []string{"-hwaccel", "cuda", "-hwaccel_device", "cu", "-hwaccel_output_format", "cuda"}
	case FamilyQSV:
		return []string{"-hwaccel", "qsv", "-hwaccel_device", "qs", "-hwaccel_output_format", "qsv", "-c:v", srcCodec + "_qsv"}
	case FamilyVAAPI:
		return []string{"-hwaccel", "vaapi", "-hwaccel_device", "va", "-hwaccel_output_format", "vaapi"}
	}
	return nil
}

// uploadFilter moves software frames (the probe's test pattern) to the device.
func (c Candidate) uploadFilter() string {
	switch c.Family {
	case FamilyNVENC:
		return "format=nv12,hwupload_cuda"
	case FamilyQSV:
		return "format=nv12,hwupload=extra_hw_frames=64"
	case FamilyVAAPI:
		return "format=nv12,hwupload"
	}
	return "format=yuv420p"
}

// scaleFilter scales to w×h on the family's device. scaler picks between
// scale_cuda and scale_npp for NVENC (whichever the probe found).
func (c Candidate) scaleFilter(w, h int, scaler string) string {
	ws, hs := strconv.Itoa(w), strconv.Itoa(h)
	switch c.Family {
	case FamilyNVENC:
		if scaler == "scale_npp" {
			return "scale_npp=w=" + ws + ":h=" + hs + ":format=nv12"
		}
		return "scale_cuda=w=" + ws + ":h=" + hs
	case FamilyQSV:
		return "scale_qsv=w=" + ws + ":h=" + hs
	case FamilyVAAPI:
		return "scale_vaapi=w=" + ws + ":h=" + hs + ":format=nv12"
	}
	return "scale=" + ws + ":" + hs + ":flags=bicubic"
}

// encoderArgs are the low-latency settings of the encoder (rate control and
// keyframes are added per rendition by the command builder). No B-frames
// anywhere: the packager's cut rule reads DTS, and without reordering the
// DTS of a ladder frame is its PTS, the same instant in every rendition.
func (c Candidate) encoderArgs(preset string) []string {
	args := []string{"-c:v", c.Encoder, "-bf", "0"}
	switch c.Family {
	case FamilyNVENC:
		if preset == "" {
			preset = "p3"
		}
		args = append(args, "-preset", preset, "-tune", "ll", "-rc", "cbr", "-zerolatency", "1", "-forced-idr", "1", "-no-scenecut", "1")
	case FamilyQSV:
		if preset == "" {
			preset = "veryfast"
		}
		args = append(args, "-preset", preset, "-look_ahead", "0", "-forced_idr", "1")
	case FamilyVAAPI:
		args = append(args, "-rc_mode", "CBR")
	default:
		if preset == "" {
			preset = "veryfast"
		}
		// zerolatency: no lookahead, no frame threads (sliced threads);
		// its cost is measured in docs/transcoding.md.
		args = append(args, "-preset", preset, "-tune", "zerolatency", "-sc_threshold", "0", "-forced-idr", "1")
	}
	return args
}

// deviceFile is the device node whose absence explains a refusal.
func (c Candidate) deviceFile(vaapiDevice string) string {
	switch c.Family {
	case FamilyNVENC:
		return "/dev/nvidia0"
	case FamilyQSV, FamilyVAAPI:
		return vaapiDevice
	}
	return ""
}

func (c Candidate) String() string { return fmt.Sprintf("%s (%s)", c.Encoder, c.Family) }

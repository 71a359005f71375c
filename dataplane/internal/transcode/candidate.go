package transcode

// Family is the hardware path an encoder uses.
type Family string

// Families, in the default order of preference.
const (
	FamilyNVENC    Family = "nvenc"    // NVIDIA: CUDA decode, scale_cuda (or scale_npp), h264_nvenc/hevc_nvenc
	FamilyQSV      Family = "qsv"      // Intel Quick Sync: QSV decode, scale_qsv, h264_qsv
	FamilyVAAPI    Family = "vaapi"    // VA-API (Intel/AMD): VAAPI decode, scale_vaapi, h264_vaapi
	FamilySoftware Family = "software" // libx264 on the CPU
)

// Candidate is an encoder zonecast knows how to drive.
type Candidate struct {
	Encoder string // ffmpeg's encoder name
	Family  Family
	Codec   string // "h264" or "hevc": what the ladder renditions carry
}

// Candidates are every encoder zonecast can drive; config.Transcode.Encoders
// orders (and may restrict) them.
var Candidates = []Candidate{
	{"h264_nvenc", FamilyNVENC, "h264"},
	{"hevc_nvenc", FamilyNVENC, "hevc"},
	{"h264_qsv", FamilyQSV, "h264"},
	{"hevc_qsv", FamilyQSV, "hevc"},
	{"h264_vaapi", FamilyVAAPI, "h264"},
	{"hevc_vaapi", FamilyVAAPI, "hevc"},
	{"libx264", FamilySoftware, "h264"},
}

// LookupCandidate finds a candidate by its encoder name.
func LookupCandidate(encoder string) (Candidate, bool) {
	for _, c := range Candidates {
		if c.Encoder == encoder {
			return c, true
		}
	}
	return Candidate{}, false
}

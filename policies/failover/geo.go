package failover

import "math"

// Location is a point on the Earth in degrees.
type Location struct {
	Lat float64 // degrees north, −90..90
	Lon float64 // degrees east, −180..180
}

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle distance between two locations, by the
// haversine formula (accurate to about 0.5 % on a spherical Earth, far finer
// than the decision it feeds: which region is closest).
func DistanceKm(a, b Location) float64 {
	const rad = math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Valid reports whether the location is a real point.
func (l Location) Valid() bool {
	return l.Lat >= -90 && l.Lat <= 90 && l.Lon >= -180 && l.Lon <= 180 &&
		!math.IsNaN(l.Lat) && !math.IsNaN(l.Lon)
}

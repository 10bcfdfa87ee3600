//go:build race

package session

func init() { stressN = 1000 }

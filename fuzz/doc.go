// Package fuzz holds fuzz targets that cross package boundaries: the whole
// server read path, from bytes on a socket to messages and close codes.
// Each parser also has fuzz targets next to it (frame, handshake,
// internal/utf8); `make fuzz` runs them all.
//
//	go test -run '^$' -fuzz FuzzServerReadPath -fuzztime 1m ./fuzz
package fuzz

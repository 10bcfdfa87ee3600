package sys

// The syscall package has no numbers for these on 386, where they once
// went through socketcall(2); Linux has had them as system calls of
// their own since 4.3.
const (
	sysAccept4    = 364
	sysGetsockopt = 365
)

module github.com/go-resty/resty/v2

go 1.23.0

require (
	golang.org/x/net v0.43.0
	golang.org/x/time v0.12.0
)

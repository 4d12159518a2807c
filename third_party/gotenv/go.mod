module github.com/subosito/gotenv

go 1.21

require golang.org/x/text v0.12.0

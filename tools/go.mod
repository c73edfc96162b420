module github.com/certgate/certgate/tools

go 1.26.0

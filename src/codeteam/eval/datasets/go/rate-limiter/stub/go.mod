module ratelimit

go 1.22

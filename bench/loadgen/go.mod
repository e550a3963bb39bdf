module codeteam.local/loadgen

go 1.22

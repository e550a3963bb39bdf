module ttlcache

go 1.22

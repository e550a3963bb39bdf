module primes

go 1.22

module pubsub

go 1.22

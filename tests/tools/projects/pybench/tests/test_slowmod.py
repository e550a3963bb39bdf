from slowmod import fast_sum, slow_sum


def test_fast_sum_benchmark(benchmark):
    assert benchmark(fast_sum, 1000) == 499500


def test_slow_sum_benchmark(benchmark):
    benchmark.pedantic(slow_sum, args=(2000,), rounds=3, iterations=1)


def test_slow_sum_value():
    assert slow_sum(20_000) > 0

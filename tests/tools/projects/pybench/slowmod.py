"""A deliberately slow function beside a fast one: what profile must find."""


def slow_sum(n: int) -> int:
    total = 0
    for i in range(n):
        for j in range(50):
            total += (i * j) % 7
    return total


def fast_sum(n: int) -> int:
    return sum(range(n))


if __name__ == "__main__":
    print(slow_sum(20_000), fast_sum(1000))

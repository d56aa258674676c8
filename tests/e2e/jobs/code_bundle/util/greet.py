def greeting(who):
    return f"hello, {who}"

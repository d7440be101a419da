def run_bench(): pass
class BenchOptions: pass

"""The object benchmark's view of the server process: its CPU time and memory from /proc, the RSS
sampler, and the per-phase accounting (server CPU, client CPU, peak RSS, dirty page cache)."""

from __future__ import annotations

import os
import threading
import time

from loam_bench import CLK_TCK, MIB, BenchError, Server

PAGE = os.sysconf("SC_PAGE_SIZE")


class ObjectServer(Server):
    """``loam server`` with the memory and CPU readings the object benchmark takes."""

    def __init__(self, binary, data_dir):
        super().__init__(binary, data_dir)
        self.threads = self.startup["server.listening"].get("threads")

    def status_kib(self, field):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise BenchError(f"no {field} in /proc/{self.pid}/status")

    def rss_mib(self):
        """Current RSS, from /proc/<pid>/statm (cheaper to read than status)."""
        with open(f"/proc/{self.pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE / MIB

    def hwm_mib(self):
        return self.status_kib("VmHWM") / 1024

    def reset_hwm(self):
        """Resets VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def cpu_s(self):
        return self.cpu_ticks()[0] / CLK_TCK


def dirty_mib():
    """Dirty + under-writeback page cache, machine-wide (/proc/meminfo), in MiB."""
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("Dirty:", "Writeback:")):
                total += int(line.split()[1])
    return total / 1024


class RssSampler:
    """Samples the server's RSS (and the machine's dirty page cache) every `interval` s on a
    thread while active."""

    def __init__(self, server: ObjectServer, interval=0.02):
        self.server = server
        self.interval = interval
        self.max_mib = 0.0
        self.max_dirty_mib = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self.max_mib = self.server.rss_mib()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.max_mib = max(self.max_mib, self.server.rss_mib())
                self.max_dirty_mib = max(self.max_dirty_mib, dirty_mib())
                self.samples += 1
            except OSError:
                return

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def client_cpu_s():
    """This process's own CPU seconds (boto3's threads included)."""
    t = os.times()
    return t.user + t.system


class Phase:
    """Server CPU, client CPU and the server's peak RSS over one phase."""

    def __init__(self, server: ObjectServer, sample_rss=True):
        self.server = server
        self.sample_rss = sample_rss
        self.sampler = None

    def __enter__(self):
        self.hwm_reset = self.server.reset_hwm()
        self.rss_start = self.server.rss_mib()
        self.cpu0 = self.server.cpu_s()
        self.client0 = client_cpu_s()
        self.t0 = time.perf_counter()
        if self.sample_rss:
            self.sampler = RssSampler(self.server).__enter__()
        return self

    def __exit__(self, *exc):
        if self.sampler:
            self.sampler.__exit__(*exc)
        self.wall = time.perf_counter() - self.t0
        self.server_cpu = self.server.cpu_s() - self.cpu0
        self.client_cpu = client_cpu_s() - self.client0
        self.hwm = self.server.hwm_mib()
        self.rss_end = self.server.rss_mib()
        self.rss_sampled_max = self.sampler.max_mib if self.sampler else None
        self.dirty_max = self.sampler.max_dirty_mib if self.sampler else None
        self.rss_samples = self.sampler.samples if self.sampler else 0

    def summary(self):
        return {"wall": self.wall, "server_cpu": self.server_cpu, "client_cpu": self.client_cpu,
                "hwm": self.hwm, "hwm_reset": self.hwm_reset, "rss_start": self.rss_start, "rss_end": self.rss_end,
                "rss_sampled_max": self.rss_sampled_max, "rss_samples": self.rss_samples,
                "dirty_max": self.dirty_max}

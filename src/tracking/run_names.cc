#include "tracking/run_names.h"

#include <array>
#include <random>
#include <string_view>

namespace loam::tracking {

namespace {
constexpr std::array<std::string_view, 40> kAdjectives = {
    "able",   "agile",  "amber",  "bold",   "brave",  "bright", "calm",   "clever", "crisp",  "daring",
    "eager",  "fast",   "fierce", "gentle", "glad",   "grand",  "happy",  "honest", "keen",   "kind",
    "lively", "loyal",  "lucky",  "mellow", "merry",  "nimble", "noble",  "polite", "proud",  "quick",
    "quiet",  "rare",   "sharp",  "shy",    "sleek",  "smart",  "steady", "sunny",  "swift",  "wise"};
constexpr std::array<std::string_view, 40> kNouns = {
    "ant",    "bass",   "bear",   "bee",    "bird",   "boar",   "cat",    "colt",   "crab",   "crane",
    "deer",   "doe",    "dove",   "eel",    "elk",    "finch",  "fish",   "fox",    "frog",   "goat",
    "gull",   "hare",   "hawk",   "hen",    "horse",  "jay",    "lark",   "lynx",   "mole",   "moth",
    "newt",   "owl",    "panda",  "quail",  "ram",    "seal",   "shrew",  "snail",  "squid",  "wolf"};
}  // namespace

std::string GenerateRunName() {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> adj(0, kAdjectives.size() - 1);
  std::uniform_int_distribution<size_t> noun(0, kNouns.size() - 1);
  std::uniform_int_distribution<int> num(0, 999);
  std::string name(kAdjectives[adj(rng)]);
  name += '-';
  name += kNouns[noun(rng)];
  name += '-';
  name += std::to_string(num(rng));
  return name;
}

}  // namespace loam::tracking

#include "jobs/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace loam::jobs {

namespace fs = std::filesystem;

namespace {

using WriterPtr = std::unique_ptr<struct archive, decltype(&archive_write_free)>;
using ReaderPtr = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

Status ArchiveError(struct archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Internal(fmt::format("{}: {}", what, msg ? msg : "unknown libarchive error"));
}

Status AddFile(struct archive* a, const fs::path& file, const std::string& name, const struct stat& st) {
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_copy_stat(entry.get(), &st);
  archive_entry_set_uname(entry.get(), "root");
  archive_entry_set_gname(entry.get(), "root");
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    auto target = fs::read_symlink(file, ec);
    archive_entry_set_symlink(entry.get(), target.c_str());
  }
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK) return ArchiveError(a, "writing " + name);
  if (!S_ISREG(st.st_mode)) return Status::Ok();
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal(fmt::format("cannot read {}", file.string()));
  std::vector<char> buf(1 << 16);
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
    if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) < 0) {
      ::close(fd);
      return ArchiveError(a, "writing " + name);
    }
  }
  ::close(fd);
  return Status::Ok();
}

bool SafeEntryName(const std::string& name) {
  fs::path p(name);
  if (p.is_absolute()) return false;
  for (const auto& part : p) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

Status PackDirectory(const fs::path& dir, const fs::path& archive) {
  std::error_code ec;
  fs::create_directories(archive.parent_path(), ec);
  fs::path tmp = archive;
  tmp += ".partial";
  WriterPtr a(archive_write_new(), archive_write_free);
  archive_write_add_filter_gzip(a.get());
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) return ArchiveError(a.get(), "creating archive");

  // Sorted, so the same directory always packs to the same archive listing.
  std::vector<fs::path> entries;
  if (fs::exists(dir, ec)) {
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      entries.push_back(it->path());
    }
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& p : entries) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    RETURN_IF_ERROR(AddFile(a.get(), p, p.lexically_relative(dir).string(), st));
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "finishing archive");
  fs::rename(tmp, archive, ec);
  if (ec) return Internal(fmt::format("cannot write {}: {}", archive.string(), ec.message()));
  return Status::Ok();
}

Status ExtractArchive(const fs::path& archive, const fs::path& dest) {
  std::error_code ec;
  fs::create_directories(dest, ec);
  ReaderPtr in(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(in.get());
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  if (archive_read_open_filename(in.get(), archive.c_str(), 1 << 16) != ARCHIVE_OK) {
    return InvalidArgument(fmt::format("{} is not a readable tar archive: {}", archive.string(),
                                       archive_error_string(in.get()) ? archive_error_string(in.get()) : ""));
  }
  WriterPtr out(archive_write_disk_new(), archive_write_free);
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  archive_entry* entry;
  while (true) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return ArchiveError(in.get(), "reading " + archive.string());
    std::string name = archive_entry_pathname(entry);
    // Entries are re-rooted under dest (libarchive then sees absolute paths), so the
    // escape checks on the original name are done here.
    if (!SafeEntryName(name)) return InvalidArgument(fmt::format("refusing archive entry {}: it escapes the target", name));
    archive_entry_set_pathname(entry, (dest / name).c_str());
    if (const char* hardlink = archive_entry_hardlink(entry)) {
      if (!SafeEntryName(hardlink)) return InvalidArgument(fmt::format("refusing archive entry {}", name));
      archive_entry_set_hardlink(entry, (dest / hardlink).c_str());
    }
    if (archive_write_header(out.get(), entry) != ARCHIVE_OK) {
      return InvalidArgument(fmt::format("refusing archive entry {}: {}", name,
                                         archive_error_string(out.get()) ? archive_error_string(out.get()) : ""));
    }
    const void* buf;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(in.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(out.get(), buf, size, offset) != ARCHIVE_OK) {
        return ArchiveError(out.get(), "extracting " + name);
      }
    }
    if (r != ARCHIVE_EOF) return ArchiveError(in.get(), "reading " + name);
    archive_write_finish_entry(out.get());
  }
  return Status::Ok();
}

}  // namespace loam::jobs

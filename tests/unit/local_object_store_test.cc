#include "objects/local_object_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace loam::objects {
namespace {

TEST(LocalObjectStore, PutGetListDelete) {
  testing::ScratchDir dir;
  LocalObjectStore store(dir.path() / "root");
  ASSERT_TRUE(store.PutBytes("a/b/c.txt", "hello").ok());
  ASSERT_TRUE(store.PutBytes("a/d.txt", "x").ok());
  auto obj = store.Get("a/b/c.txt");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(obj->size, 5u);
  auto listed = store.List("a");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "b");
  EXPECT_TRUE((*listed)[0].is_dir);
  EXPECT_EQ((*listed)[1].name, "d.txt");
  EXPECT_EQ((*listed)[1].size, 1u);
  EXPECT_TRUE(store.Delete("a/b").ok());
  EXPECT_EQ(store.Get("a/b/c.txt").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Delete("a/b").code(), StatusCode::kNotFound);
}

TEST(LocalObjectStore, PutFileMovesTheSource) {
  testing::ScratchDir dir;
  LocalObjectStore store(dir.path() / "root");
  auto src = dir.path() / "upload";
  std::ofstream(src) << "payload";
  ASSERT_TRUE(store.PutFile("x/y.bin", src).ok());
  EXPECT_FALSE(std::filesystem::exists(src));
  EXPECT_EQ(store.Get("x/y.bin")->size, 7u);
}

TEST(LocalObjectStore, RefusesKeysThatEscapeTheRoot) {
  testing::ScratchDir dir;
  LocalObjectStore store(dir.path() / "root");
  EXPECT_EQ(store.PutBytes("../outside", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.PutBytes("/abs", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Get("a/../../b").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "outside"));
}

}  // namespace
}  // namespace loam::objects

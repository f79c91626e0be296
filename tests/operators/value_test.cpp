#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "weir/operators/value.hpp"

using weir::value;

TEST_CASE("value holds every kind and copies cheaply", "[operators][value]") {
  value n;
  CHECK(n.is_null());
  CHECK(value(true).as_bool());
  CHECK(value(42).as_int() == 42);
  CHECK(value(2.5).as_real() == 2.5);
  CHECK(value("short").as_string() == "short");
  std::string long_s(100, 'x');
  value l(long_s);
  value l2 = l;  // shares the heap block
  CHECK(l2.as_string() == long_s);
  CHECK(l2.as_string().data() == l.as_string().data());
  value moved = std::move(l);
  CHECK(l.is_null());  // NOLINT: moved-from is null by contract
  CHECK(moved.as_string() == long_s);
}

TEST_CASE("inline strings up to 14 bytes and heap beyond", "[operators][value]") {
  for (std::size_t len = 0; len < 40; ++len) {
    std::string s(len, 'a');
    for (std::size_t i = 0; i < len; ++i) s[i] = static_cast<char>('a' + i % 26);
    value v(s);
    REQUIRE(v.is_string());
    CHECK(v.as_string() == s);
    CHECK(v == value(s));
    CHECK(v.hash() == value(s).hash());
  }
}

TEST_CASE("equality and hash agree across int and integral double", "[operators][value]") {
  CHECK(value(3) == value(3.0));
  CHECK(value(3).hash() == value(3.0).hash());
  CHECK(value(3) != value(3.5));
  CHECK(value("3") != value(3));
  CHECK(value::pair("a", 1) == value::pair("a", 1.0));
  CHECK(value::pair("a", 1).hash() == value::pair("a", 1).hash());
  CHECK(value::pair("a", 1).hash() != value::pair("a", 2).hash());
  // exact: a large integer is not equal to the nearest double
  std::int64_t big = (std::int64_t{1} << 53) + 1;
  CHECK(value(big) != value(static_cast<double>(big)));
  CHECK(value(big) > value(static_cast<double>(big)));
  CHECK(value(std::int64_t{1} << 53) == value(9007199254740992.0));
  CHECK(value(std::int64_t{1} << 53).hash() == value(9007199254740992.0).hash());
  CHECK(value(2) < value(2.5));
  CHECK(value(-3) > value(-3.5));
  CHECK(value(2.5) > value(2));
}

TEST_CASE("total order across kinds", "[operators][value]") {
  CHECK(value() < value(false));
  CHECK(value(false) < value(-5));
  CHECK(value(-5) < value(2.5));
  CHECK(value(2.5) < value(""));
  CHECK(value("abc") < value("abd"));
  CHECK(value("ab") < value("abc"));
  CHECK(value::pair("a", 1) < value::pair("a", 2));
  CHECK(value("zzz") < value::array({}));
}

TEST_CASE("JSON output is valid even for invalid UTF-8", "[operators][value][json]") {
  CHECK(value("a\"b\\c\n").to_json() == R"("a\"b\\c\n")");
  CHECK(value(std::string("x\xff" "y")).to_json() == "\"x\xEF\xBF\xBDy\"");
  CHECK(value(std::string("\xC3\xA9t\xC3\xA9")).to_json() == "\"\xC3\xA9t\xC3\xA9\"");  // été kept
  CHECK(value(std::string("\x01")).to_json() == R"("\u0001")");
  CHECK(value(2.0).to_json() == "2.0");
  CHECK(value(0.1).to_json() == "0.1");
  CHECK(value::pair("to", 5).to_json() == R"(["to",5])");
  auto obj = value::object({{"a", 1}, {"b", value::array({1, "x"})}});
  CHECK(obj.to_json() == R"({"a":1,"b":[1,"x"]})");
  REQUIRE(obj.find("b") != nullptr);
  CHECK(obj.find("b")->as_array().size() == 2);
  CHECK(obj.find("c") == nullptr);
}

TEST_CASE("Spark toString layout for print", "[operators][value]") {
  CHECK(value::pair("to", 5).to_text() == "(to,5)");
  CHECK(value("raw").to_text() == "raw");
  CHECK(value(2.0).to_text() == "2.0");
  CHECK(value::array({1, 2}).to_text() == "[1,2]");
  CHECK(value::pair(value::pair("a", 1), 2.5).to_text() == "((a,1),2.5)");
}

TEST_CASE("array_moved - int_array and object_moved build the same values as array and object", "[operators][value]") {
  std::string long_s(40, 'z');
  std::vector<value> items = {value(1), value(long_s), value("short"), value(2.5), value()};
  value expected = value::array(items, true);
  std::vector<value> moved = items;
  value got = value::array_moved(moved, true);
  CHECK(got == expected);
  CHECK(got.is_tuple());
  CHECK(got.to_json() == R"([1,"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz","short",2.5,null])");
  for (auto& m : moved) CHECK(m.is_null());  // moved from
  CHECK(value::array_moved({}).to_json() == "[]");

  const std::int64_t ints[] = {7, -1, 0, INT64_MAX};
  value ia = value::int_array(ints, false);
  CHECK(ia == value::array({value(7), value(-1), value(0), value(INT64_MAX)}));
  CHECK_FALSE(ia.is_tuple());
  CHECK(ia.hash() == value::array({value(7), value(-1), value(0), value(INT64_MAX)}).hash());

  std::vector<weir::field> fields = {{value("k"), value(long_s)}, {value("n"), value(3)}};
  value obj = value::object_moved(fields);
  CHECK(obj == value::object({{value("k"), value(long_s)}, {value("n"), value(3)}}));
  CHECK(obj.to_json() == R"({"k":"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz","n":3})");
  CHECK(obj.find("n")->as_int() == 3);
  CHECK(fields[0].val.is_null());
}

TEST_CASE("a heap value shared by threads is released exactly once", "[operators][value]") {
  // the reference count skips the atomic decrement for the sole owner: many
  // copies made and dropped on two threads, then the last owner frees it
  // (ASan reports a double free or a leak if the count goes wrong)
  std::string long_s(64, 'q');
  value shared(long_s);
  value arr = value::array({shared, value(1)});
  std::atomic<int> bad{0};  // Catch's CHECK is not thread-safe: count on the threads, check after
  auto work = [&] {
    for (int i = 0; i < 20000; ++i) {
      value a = arr;
      value b = shared;
      value c = std::move(a);
      if (c.as_array()[0].as_string().size() != 64 || b.as_string() != long_s) ++bad;
    }
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
  CHECK(bad.load() == 0);
  CHECK(arr.as_array()[0].as_string() == long_s);
  shared = value();
  CHECK(arr.as_array()[0].as_string() == long_s);  // still owned by the array
}

TEST_CASE("arrays whose items are all inline free no item and the others release theirs", "[operators][value]") {
  // int_array and pairs of inline values skip releasing their items when
  // freed; a pair holding a heap string must still release it
  // (ASan reports the leak or a double free if either goes wrong)
  const std::int64_t ints[] = {3, -1, 1LL << 40, 0, 7};
  value a = value::int_array(ints, true);
  CHECK(a == value::array({value(3), value(-1), value(std::int64_t{1} << 40), value(0), value(7)}, true));
  CHECK(a.hash() == value::array({value(3), value(-1), value(std::int64_t{1} << 40), value(0), value(7)}).hash());
  value b = a;  // shared block: freed once by the last owner
  a = value();
  CHECK(b.as_array()[2].as_int() == std::int64_t{1} << 40);

  std::string long_s(40, 'k');
  value key(long_s);
  {
    value p = value::pair(key, value(1));      // heap key: released when the pair goes
    value q = value::pair(value("short"), value(2.5));  // all inline
    value r = value::pair(value(), value(true));
    value s = value::pair(p, value(3));         // an array item: released too
    CHECK(p.as_array()[0].as_string() == long_s);
    CHECK(q.as_array()[0].as_string() == "short");
    CHECK(r.as_array()[1].as_bool());
    CHECK(s.as_array()[0] == p);
  }
  CHECK(key.as_string() == long_s);  // the pairs released their references, not the string
  value only;
  {
    value p = value::pair(value(std::string(30, 'x')), value(1));  // sole owner of the string
    only = p.as_array()[0];
  }
  CHECK(only.as_string() == std::string(30, 'x'));
}

TEST_CASE("strings of every inline length keep their bytes and have zeroed padding", "[operators][value]") {
  // value(string_view) copies inline strings with word loads:
  // each length 0..20 from an unaligned buffer with other bytes around it
  std::string buf = "#abcdefghijklmnopqrstuvwxyz#";
  for (std::size_t n = 0; n <= 20; ++n) {
    INFO("length " << n);
    std::string_view s(buf.data() + 1, n);
    value v(s);
    CHECK(v.is_string());
    CHECK(v.as_string() == s);
    std::string copy(s);  // another buffer, other neighbours
    copy.push_back('!');
    value w(std::string_view(copy.data(), n));
    // equal inline strings: equal 16 bytes (the hash memos and tables rely on it)
    if (n <= 14) CHECK(std::memcmp(static_cast<const void*>(&v), static_cast<const void*>(&w), sizeof(value)) == 0);
    CHECK(v == w);
    CHECK(v.hash() == w.hash());
    CHECK(v.to_json() == "\"" + std::string(s) + "\"");
    if (n > 0) CHECK(v != value(std::string_view(buf.data() + 2, n)));
  }
}

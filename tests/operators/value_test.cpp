#include <catch2/catch.hpp>

#include <string>

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

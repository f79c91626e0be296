// weir — the DSL's recursive-descent parser (parser.hpp): statements,
// pipelines, stage calls and expressions into the syntax tree (ast.hpp), with
// "expected X, found Y" errors. Grammar: docs/DSL.md, "7. Grammar".
#include "weir/cli/parser.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "weir/common/deep_stack.hpp"

namespace weir::dsl {

namespace {

class parser {
public:
  parser(std::vector<token> toks) : t_(std::move(toks)) {}

  ast::script script(const std::string& file) {
    ast::script s;
    s.file = file;
    skip_separators();
    while (!at(tok::end)) {
      s.statements.push_back(statement());
      if (at(tok::end)) break;
      if (!at(tok::newline) && !at(tok::semicolon)) {
        const auto& st = s.statements.back();
        if (st.kind == ast::stmt_kind::set)
          fail(fmt::format("expected end of line or ';' after the setting, found {}", describe(cur())));
        fail(fmt::format("expected '|', end of line or ';' after '{}', found {}",
                         st.stages.back().name + (st.stages.back().has_parens ? "(...)" : ""),
                         describe(cur())));
      }
      skip_separators();
    }
    return s;
  }

  ast::expr_ptr single_expression() {
    auto e = expression();
    if (!at(tok::end)) fail(fmt::format("expected end of expression, found {}", describe(cur())));
    return e;
  }

private:
  const token& cur() const { return t_[i_]; }
  const token& peek(std::size_t k = 1) const {
    return t_[std::min(i_ + k, t_.size() - 1)];
  }
  bool at(tok k) const { return cur().kind == k; }
  const token& advance() {
    const token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }
  bool accept(tok k) {
    if (!at(k)) return false;
    advance();
    return true;
  }
  [[noreturn]] void fail(const std::string& msg) const { throw dsl_error(cur().loc, msg); }
  [[noreturn]] void too_deep() const { fail(fmt::format("nesting deeper than {}", max_nesting)); }

  /// One level of the parser's own recursion (expression(), `not`, unary
  /// `-`): bounded by max_nesting, so no script can exhaust the stack.
  class nesting {
  public:
    explicit nesting(parser& p) : p_(p) {
      if (++p_.nesting_ > max_nesting) p_.too_deep();
    }
    ~nesting() { --p_.nesting_; }
    nesting(const nesting&) = delete;
    nesting& operator=(const nesting&) = delete;

  private:
    parser& p_;
  };

  /// Sets e's depth from its children; a tree deeper than max_nesting (a
  /// long chain built by a loop, e.g. `1 + 1 + ...`) is refused.
  ast::expr_ptr done(ast::expr_ptr e) const {
    int d = 0;
    for (auto& a : e->args) d = std::max(d, a->depth);
    for (auto& n : e->named) d = std::max(d, n.val->depth);
    e->depth = d + 1;
    if (e->depth > max_nesting) too_deep();
    return e;
  }
  void expect(tok k, std::string_view what) {
    if (!accept(k)) fail(fmt::format("expected {}, found {}", what, describe(cur())));
  }
  void skip_separators() {
    while (at(tok::newline) || at(tok::semicolon)) advance();
  }

  // ---- statements -------------------------------------------------------

  ast::statement statement() {
    ast::statement st;
    st.loc = cur().loc;
    if (accept(tok::kw_set)) {
      st.kind = ast::stmt_kind::set;
      if (!at(tok::identifier))
        fail(fmt::format("expected a setting name after 'set', found {}", describe(cur())));
      st.name = cur().text;
      st.name_loc = cur().loc;
      advance();
      expect(tok::assign, fmt::format("'=' after 'set {}'", st.name));
      st.setting = expression();
      return st;
    }
    if (accept(tok::kw_let)) {
      st.kind = ast::stmt_kind::let;
      if (!at(tok::identifier))
        fail(fmt::format("expected a stream name after 'let', found {}", describe(cur())));
      st.name = cur().text;
      st.name_loc = cur().loc;
      advance();
      expect(tok::assign, fmt::format("'=' after 'let {}'", st.name));
      pipeline(st);
      return st;
    }
    if (!at(tok::identifier))
      fail(fmt::format("expected a pipeline, 'let' or 'set', found {}", describe(cur())));
    st.kind = ast::stmt_kind::pipeline;
    pipeline(st);
    return st;
  }

  void pipeline(ast::statement& st) {
    if (!at(tok::identifier))
      fail(fmt::format("expected a source or a stream name, found {}", describe(cur())));
    st.stages.push_back(stage());
    while (accept(tok::pipe)) {
      if (!at(tok::identifier))
        fail(fmt::format("expected an operator after '|', found {}", describe(cur())));
      st.stages.push_back(stage());
    }
  }

  ast::stage stage() {
    ast::stage s;
    s.name = cur().text;
    s.loc = cur().loc;
    advance();
    if (at(tok::lparen)) {
      s.has_parens = true;
      arguments(s.args, s.named);
    }
    return s;
  }

  // '(' [arg {',' arg}] [','] ')' with arg := name '=' expr | expr
  void arguments(std::vector<ast::expr_ptr>& args, std::vector<ast::named_arg>& named) {
    expect(tok::lparen, "'('");
    while (!at(tok::rparen)) {
      if (at(tok::identifier) && peek().kind == tok::assign) {
        ast::named_arg a;
        a.name = cur().text;
        a.loc = cur().loc;
        for (auto& n : named)
          if (n.name == a.name) fail(fmt::format("argument '{}' given twice", a.name));
        advance();
        advance();
        a.val = expression();
        named.push_back(std::move(a));
      } else {
        if (!named.empty()) fail("positional argument after named arguments");
        args.push_back(expression());
      }
      if (!accept(tok::comma)) break;
    }
    if (!accept(tok::rparen))
      fail(fmt::format("expected ')' after arguments, found {}", describe(cur())));
  }

  // ---- expressions ------------------------------------------------------

  ast::expr_ptr node(ast::expr_kind k, source_location loc) {
    auto e = std::make_unique<ast::expr>();
    e->kind = k;
    e->loc = std::move(loc);
    return e;
  }

  bool lambda_ahead() const {
    if (at(tok::identifier)) return peek().kind == tok::arrow;
    if (!at(tok::lparen)) return false;
    std::size_t k = 1;
    if (peek(k).kind != tok::rparen) {
      for (;;) {
        if (peek(k).kind != tok::identifier) return false;
        ++k;
        if (peek(k).kind == tok::comma) {
          ++k;
          continue;
        }
        break;
      }
      if (peek(k).kind != tok::rparen) return false;
    }
    return peek(k + 1).kind == tok::arrow;
  }

  ast::expr_ptr expression() {
    nesting guard(*this);
    if (lambda_ahead()) return lambda();
    return or_expr();
  }

  ast::expr_ptr lambda() {
    auto e = node(ast::expr_kind::lambda, cur().loc);
    auto add_param = [&](const token& t) {
      for (auto& p : e->params)
        if (p == t.text) throw dsl_error(t.loc, fmt::format("parameter '{}' given twice", t.text));
      e->params.push_back(t.text);
    };
    if (at(tok::identifier)) {
      add_param(advance());
    } else {
      advance();  // (
      while (at(tok::identifier)) {
        add_param(advance());
        if (!accept(tok::comma)) break;
      }
      expect(tok::rparen, "')' after lambda parameters");
    }
    expect(tok::arrow, "'=>'");
    if (lambda_ahead()) fail("a lambda cannot return a lambda");
    e->args.push_back(or_expr());
    return done(std::move(e));
  }

  ast::expr_ptr binary(tok op, source_location loc, ast::expr_ptr l, ast::expr_ptr r) {
    auto e = node(ast::expr_kind::binary, std::move(loc));
    e->op = op;
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return done(std::move(e));
  }

  ast::expr_ptr or_expr() {
    auto l = and_expr();
    while (at(tok::kw_or)) {
      auto loc = advance().loc;
      l = binary(tok::kw_or, loc, std::move(l), and_expr());
    }
    return l;
  }

  ast::expr_ptr and_expr() {
    auto l = not_expr();
    while (at(tok::kw_and)) {
      auto loc = advance().loc;
      l = binary(tok::kw_and, loc, std::move(l), not_expr());
    }
    return l;
  }

  ast::expr_ptr not_expr() {
    if (at(tok::kw_not)) {
      nesting guard(*this);
      auto e = node(ast::expr_kind::unary, advance().loc);
      e->op = tok::kw_not;
      e->args.push_back(not_expr());
      return done(std::move(e));
    }
    return comparison();
  }

  static bool is_comparison(tok k) {
    return k == tok::eq || k == tok::ne || k == tok::lt || k == tok::le || k == tok::gt ||
           k == tok::ge;
  }

  ast::expr_ptr comparison() {
    auto l = additive();
    if (is_comparison(cur().kind)) {
      tok op = cur().kind;
      auto loc = advance().loc;
      l = binary(op, loc, std::move(l), additive());
      if (is_comparison(cur().kind))
        fail("comparisons cannot be chained; combine them with 'and'");
    }
    return l;
  }

  ast::expr_ptr additive() {
    auto l = multiplicative();
    while (at(tok::plus) || at(tok::minus)) {
      tok op = cur().kind;
      auto loc = advance().loc;
      l = binary(op, loc, std::move(l), multiplicative());
    }
    return l;
  }

  ast::expr_ptr multiplicative() {
    auto l = unary();
    while (at(tok::star) || at(tok::slash) || at(tok::percent)) {
      tok op = cur().kind;
      auto loc = advance().loc;
      l = binary(op, loc, std::move(l), unary());
    }
    return l;
  }

  ast::expr_ptr unary() {
    if (at(tok::minus)) {
      nesting guard(*this);
      auto loc = advance().loc;
      auto e = node(ast::expr_kind::unary, loc);
      e->op = tok::minus;
      e->args.push_back(unary());
      return done(std::move(e));
    }
    if (at(tok::kw_not)) return not_expr();
    return postfix(primary());
  }

  std::string field_name() {
    // any identifier-like token (also keywords) names a field after '.'
    const token& t = cur();
    bool ok = t.kind == tok::identifier || t.kind == tok::underscore ||
              (t.kind >= tok::kw_let && t.kind <= tok::kw_null);
    if (!ok) fail(fmt::format("expected a field name after '.', found {}", describe(t)));
    return advance().text;
  }

  ast::expr_ptr postfix(ast::expr_ptr e) {
    for (;;) {
      if (at(tok::dot)) {
        e = member(advance().loc, std::move(e));
      } else if (at(tok::lbracket)) {
        auto ix = node(ast::expr_kind::index, advance().loc);
        ix->args.push_back(std::move(e));
        ix->args.push_back(expression());
        if (!accept(tok::rbracket))
          fail(fmt::format("expected ']' after index, found {}", describe(cur())));
        e = done(std::move(ix));
      } else {
        return e;
      }
    }
  }

  // after '.': `name` (a field) or `name(args)` (a method call)
  ast::expr_ptr member(source_location dot, ast::expr_ptr base) {
    source_location name_loc = cur().loc;
    std::string name = field_name();
    if (at(tok::lparen)) {
      auto m = node(ast::expr_kind::method, std::move(name_loc));
      m->name = std::move(name);
      m->args.push_back(std::move(base));
      arguments(m->args, m->named);
      return done(std::move(m));
    }
    auto f = node(ast::expr_kind::field, std::move(dot));
    f->name = std::move(name);
    f->args.push_back(std::move(base));
    return done(std::move(f));
  }

  ast::expr_ptr literal(value v) {
    auto e = node(ast::expr_kind::literal, cur().loc);
    e->lit = std::move(v);
    e->text = cur().text;
    e->is_duration = at(tok::duration);
    advance();
    return e;
  }

  ast::expr_ptr primary() {
    const token& t = cur();
    switch (t.kind) {
      case tok::integer: return literal(value(t.ival));
      case tok::duration: return literal(value(t.ival));
      case tok::real: return literal(value(t.dval));
      case tok::string: return literal(value(t.str));
      case tok::kw_true: return literal(value(true));
      case tok::kw_false: return literal(value(false));
      case tok::kw_null: return literal(value());
      case tok::underscore: return node(ast::expr_kind::element, advance().loc);
      case tok::dot: {
        // `.field` is `_.field`
        auto loc = advance().loc;
        return member(loc, node(ast::expr_kind::element, loc));
      }
      case tok::identifier: {
        if (peek().kind == tok::lparen) {
          auto c = node(ast::expr_kind::call, t.loc);
          c->name = t.text;
          advance();
          arguments(c->args, c->named);
          return done(std::move(c));
        }
        auto n = node(ast::expr_kind::name, t.loc);
        n->name = t.text;
        advance();
        return n;
      }
      case tok::lparen: {
        auto loc = advance().loc;
        if (at(tok::rparen)) fail("empty parentheses '()' are not an expression");
        auto first = expression();
        if (accept(tok::rparen)) return first;  // grouping
        if (!at(tok::comma))
          fail(fmt::format("expected ')' or ',' in parentheses, found {}", describe(cur())));
        auto tup = node(ast::expr_kind::tuple, loc);
        tup->args.push_back(std::move(first));
        while (accept(tok::comma)) {
          if (at(tok::rparen)) break;
          tup->args.push_back(expression());
        }
        if (!accept(tok::rparen))
          fail(fmt::format("expected ')' after tuple items, found {}", describe(cur())));
        return done(std::move(tup));
      }
      case tok::lbracket: {
        auto arr = node(ast::expr_kind::array, advance().loc);
        while (!at(tok::rbracket)) {
          arr->args.push_back(expression());
          if (!accept(tok::comma)) break;
        }
        if (!accept(tok::rbracket))
          fail(fmt::format("expected ']' after array items, found {}", describe(cur())));
        return done(std::move(arr));
      }
      case tok::lbrace: {
        auto obj = node(ast::expr_kind::object, advance().loc);
        while (!at(tok::rbrace)) {
          std::string key;
          const token& k = cur();
          if (k.kind == tok::string) key = k.str;
          else if (k.kind == tok::identifier || k.kind == tok::underscore ||
                   (k.kind >= tok::kw_let && k.kind <= tok::kw_null))
            key = k.text;
          else fail(fmt::format("expected a field name in object, found {}", describe(k)));
          for (auto& existing : obj->keys)
            if (existing == key) fail(fmt::format("field '{}' given twice in object", key));
          advance();
          if (!accept(tok::colon))
            fail(fmt::format("expected ':' after field name '{}', found {}", key, describe(cur())));
          obj->keys.push_back(std::move(key));
          obj->args.push_back(expression());
          if (!accept(tok::comma)) break;
        }
        if (!accept(tok::rbrace))
          fail(fmt::format("expected '}}' after object fields, found {}", describe(cur())));
        return done(std::move(obj));
      }
      default:
        fail(fmt::format("expected an expression, found {}", describe(t)));
    }
  }

  std::vector<token> t_;
  std::size_t i_ = 0;
  int nesting_ = 0;  // open levels of expression(), `not` and unary `-`
};

}  // namespace

ast::script parse_script(std::string_view text, const std::string& file) {
  // on a stack of known size: max_nesting bounds the recursion, not `ulimit -s`
  return with_stack(deep_stack_bytes, [&] { return parser(tokenize(text, file)).script(file); });
}

ast::expr_ptr parse_expression(std::string_view text, const std::string& file) {
  return with_stack(deep_stack_bytes, [&] {
    auto toks = tokenize(text, file);
    // a single expression: line breaks are insignificant
    std::erase_if(toks, [](const token& t) { return t.kind == tok::newline; });
    return parser(std::move(toks)).single_expression();
  });
}

}  // namespace weir::dsl

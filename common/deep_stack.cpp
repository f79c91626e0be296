// weir — threads with a stack of a chosen size (see deep_stack.hpp).
#include "weir/common/deep_stack.hpp"

#include <pthread.h>

#include <system_error>

namespace weir::detail {

namespace {
struct call {
  void (*fn)(void*);
  void* arg;
};
void* trampoline(void* p) {
  auto* c = static_cast<call*>(p);
  c->fn(c->arg);
  return nullptr;
}
}  // namespace

void run_on_stack(std::size_t bytes, void (*fn)(void*), void* arg) {
  pthread_attr_t attr;
  if (int rc = pthread_attr_init(&attr); rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_attr_init");
  int rc = pthread_attr_setstacksize(&attr, bytes);
  call c{fn, arg};
  pthread_t t{};
  if (rc == 0) rc = pthread_create(&t, &attr, &trampoline, &c);
  pthread_attr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "a thread for the DSL compiler");
  pthread_join(t, nullptr);
}

}  // namespace weir::detail

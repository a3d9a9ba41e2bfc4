// The header must compile as C++ too.
#include <runc.h>

int main() {
    runc_context *ctx = nullptr;
    runc_create_opts o = {};
    o.size = sizeof o;
    (void)o;
    return runc_context_new(nullptr, &ctx) == RUNC_ERROR_OK ? 0 : 1;
}

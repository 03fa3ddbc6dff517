%:define AWAIT(x) co_await x
task<int> f(int v) <% int a<:1:> = <%v%>; co_return co_await value(a<:0:>) + AWAIT(value(1)); %>

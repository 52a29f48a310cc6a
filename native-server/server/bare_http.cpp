// keb-bare-http: the baseline of bench/server/run.sh. A bare cpp-httplib server, configured
// like keb-server (same thread pool size, timeouts), whose only handler returns a fixed
// 10 KB JSON document. Usage: keb-bare-http [PORT] [HTTP_THREADS] [BODY_BYTES (10240)]
// [KEEP_ALIVE_REQUESTS (5, httplib's default; bench/server/run.sh passes keb-server's value)]
#include <httplib.h>

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    int port = argc > 1 ? std::atoi(argv[1]) : 8090;
    int threads = argc > 2 ? std::atoi(argv[2]) : 32;
    const std::size_t bytes = argc > 3 ? static_cast<std::size_t>(std::atol(argv[3])) : 10 * 1024;
    const int keepAliveRequests = argc > 4 ? std::atoi(argv[4]) : 5;
    std::string body = "{\"data\":[";
    for (int i = 0; body.size() + 64 < bytes; ++i) {
        if (i) body += ",";
        body += "{\"operationID\":\"op-" + std::to_string(i) + "\",\"state\":\"succeeded\",\"description\":\"done\"}";
    }
    body += "],\"count\":0,\"totalCount\":0}";
    httplib::Server s;
    s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    s.set_tcp_nodelay(true);  // as keb-server
    s.set_read_timeout(10, 0);
    s.set_write_timeout(10, 0);
    s.set_keep_alive_max_count(static_cast<size_t>(keepAliveRequests > 0 ? keepAliveRequests : 5));
    s.Get(".*", [&body](const httplib::Request&, httplib::Response& res) { res.set_content(body, "application/json"); });
    std::cerr << "keb-bare-http: " << body.size() << " byte body on 127.0.0.1:" << port << "\n";
    return s.listen("127.0.0.1", port) ? 0 : 1;
}

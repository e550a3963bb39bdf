// A third-party MCP client for the e2e tests: the official TypeScript SDK, driven from pytest.
//
// Usage:
//   node client.mjs stdio '<calls>' <server command> [args...]
//   node client.mjs http  '<calls>' http://127.0.0.1:PORT/mcp
//   node client.mjs sse   '<calls>' http://127.0.0.1:PORT/sse
// <calls> is a JSON list of {"name": ..., "arguments": {...}}.
//
// Prints one JSON line: the negotiated version, the server's tools (name, whether inputSchema and
// outputSchema are present) and, per call, isError/structuredContent/text, or the error the SDK
// raised (e.g. when structuredContent fails the tool's outputSchema — the SDK checks that itself).
// Exits 0 when the session worked end to end, 1 with {"fatal": ...} when it did not.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const USAGE = 'usage: node client.mjs stdio|http|sse <calls-json> <server command...|url>';

function makeTransport(kind, target) {
    if (kind === 'stdio') {
        const [command, ...args] = target;
        // The server gets this process's whole environment, so the test decides what it holds.
        return new StdioClientTransport({ command, args, env: { ...process.env }, stderr: 'inherit' });
    }
    if (target.length !== 1) throw new Error(`${kind} takes exactly one URL: ${USAGE}`);
    const url = new URL(target[0]);
    if (kind === 'http') return new StreamableHTTPClientTransport(url);
    if (kind === 'sse') return new SSEClientTransport(url);
    throw new Error(`unknown transport ${JSON.stringify(kind)}: ${USAGE}`);
}

function describeError(error) {
    return { message: error instanceof Error ? error.message : String(error), code: error?.code ?? null };
}

async function callOne(client, call) {
    try {
        const result = await client.callTool({ name: call.name, arguments: call.arguments ?? {} });
        const text = (result.content ?? [])
            .filter((block) => block.type === 'text')
            .map((block) => block.text)
            .join('\n');
        return {
            name: call.name,
            isError: result.isError ?? false,
            structuredContent: result.structuredContent ?? null,
            text,
        };
    } catch (error) {
        return { name: call.name, error: describeError(error) };
    }
}

async function main(argv) {
    const [kind, callsJson, ...target] = argv;
    if (!kind || callsJson === undefined || target.length === 0) throw new Error(USAGE);
    const calls = JSON.parse(callsJson);
    if (!Array.isArray(calls)) throw new Error(`<calls-json> must be a JSON list: ${USAGE}`);

    const transport = makeTransport(kind, target);
    // The SDK hands the negotiated version to HTTP transports only; record it for every transport.
    let negotiated = null;
    const setVersion = transport.setProtocolVersion?.bind(transport);
    transport.setProtocolVersion = (version) => {
        negotiated = version;
        setVersion?.(version);
    };
    const client = new Client({ name: 'codeteam-ts-e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
        const { tools } = await client.listTools();
        const results = [];
        for (const call of calls) results.push(await callOne(client, call));
        const report = {
            transport: kind,
            protocolVersion: negotiated,
            server: client.getServerVersion() ?? null,
            tools: tools.map((tool) => ({
                name: tool.name,
                inputSchema: tool.inputSchema !== undefined,
                outputSchema: tool.outputSchema !== undefined,
            })),
            calls: results,
        };
        if (transport instanceof StreamableHTTPClientTransport) {
            await transport.terminateSession(); // DELETE: the server must accept ending the session
            report.sessionTerminated = transport.sessionId === undefined;
        }
        process.stdout.write(`${JSON.stringify(report)}\n`);
    } finally {
        await client.close();
    }
}

main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error) => {
        process.stdout.write(`${JSON.stringify({ fatal: describeError(error) })}\n`);
        process.exit(1);
    },
);

# The login client of tutorial 004 (python3-websockets), with input()
# replaced by a fixed list of names: a wrong one, then hlq.
import asyncio
import sys

import websockets

NAMES = iter(["nobody", "hlq"])


async def client(url):
    replies = []
    async with websockets.connect(url) as wss:
        # 一直输入登陆直到成功 (keep logging in until it succeeds)
        while True:
            name = next(NAMES)
            await wss.send(name)
            resp = await wss.recv()
            replies.append(resp)
            if resp == 'True':
                break
            else:
                print(resp)
    if replies != ["name is not exist", "True"]:
        print("FAIL: replies", replies)
        sys.exit(1)
    print("PASS")


asyncio.run(client(sys.argv[1]))

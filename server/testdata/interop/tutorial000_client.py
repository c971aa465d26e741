#-*- coding: utf-8 -*-
# Tutorial 000's interactive client (seeds/000_…, "测试代码 1. 客服端"), as
# written, run by TestTutorial000Client against chatd's /echo. Lines are
# typed into input() through a pipe; `close` sends "close", then closes.
#
# Changed from the tutorial, and nothing else:
#   - the URL is the first argument (the tutorial has ws://echo.websocket.org);
#   - when_close takes (ws, *args): websocket-client 1.0 and later (Debian 12
#     has 1.2.3) call on_close(ws, code, reason), and the tutorial's
#     when_close(ws), written for 0.x, would raise a TypeError that
#     websocket-client swallows, so "关闭连接..." would never print.
import websocket,time,threading
import sys

def when_message(ws,message):
    print("接收到的消息:"+message)

def when_open(ws):
    print("建立连接...")
    def run():
        while True:

            if sys.version > '3':
                msg=input("请输入内容")
            else:
                msg=raw_input("请输入内容:")
            ws.send(msg)
            time.sleep(1)
            # 如果用户输入close消息，则直接关闭本次连接
            if msg=='close':
                ws.close()
                break
    threading.Thread(target=run).start()

def when_close(ws, *args):
    print("关闭连接...")

ws=websocket.WebSocketApp(sys.argv[1],
                       on_message=when_message,
                       on_open=when_open,
                       on_close=when_close)
# 保持持久连接
ws.run_forever()
